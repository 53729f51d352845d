import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

describe('deploy/auth-hook-example.mjs behind a real hub', () => {
  let example: ChildProcess;
  let server: Server;

  beforeAll(async () => {
    example = spawn(process.execPath, [join(__dirname, '..', '..', 'deploy', 'auth-hook-example.mjs')], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(createInterface({ input: example.stdout as NodeJS.ReadableStream }), 'line')) as [string];
    server = await startTestServer('memory', { AUTH_HOOK_URL: line.replace(/^AUTH_HOOK_URL=/, ''), PUBLIC_CHANNELS: 'chat' });
  });
  afterAll(async () => {
    await server.close();
    example.kill();
    if (example.exitCode === null && example.signalCode === null) await once(example, 'exit');
  });

  it('grants the session user their own channels and rooms, 403 elsewhere, 401 without a session', async () => {
    const status = async (channel: string, cookie?: string): Promise<number> =>
      (await fetch(`${server.url}/channels/${channel}/events`, { headers: cookie === undefined ? {} : { Cookie: cookie } })).status;
    const session = 'theme=dark; app_session=s3cr3t-session-id';
    expect(await status('user.42.inbox', session)).toBe(200);
    expect(await status('room.support', session)).toBe(200);
    expect(await status('user.43.inbox', session)).toBe(403);
    expect(await status('user.42.inbox', 'app_session=unknown')).toBe(401);
    expect(await status('user.42.inbox')).toBe(401);
  });
});

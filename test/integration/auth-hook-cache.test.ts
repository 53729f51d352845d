import { Writable } from 'node:stream';
import pino from 'pino';
import { AuthHook, AuthUnavailableError } from '../../src/access/auth-hook';
import { HookServer } from '../helpers/hook-server';

/** A real pino logger whose lines are kept for inspection. */
function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const header = (cookie: string) => (name: string) => (name === 'cookie' ? cookie : '');

let hook: HookServer;
let clockMs: number;
beforeAll(async () => {
  hook = await HookServer.start();
});
afterAll(() => hook.close());
beforeEach(() => {
  hook.calls.length = 0;
  clockMs = Date.parse('2030-01-01T00:00:00Z');
});

function makeHook(options: { capacity?: number; cacheS?: number; url?: string } = {}): { authHook: AuthHook; lines: string[] } {
  const { logger, lines } = capturingLogger();
  const authHook = new AuthHook({
    url: options.url ?? hook.url,
    headerNames: ['cookie'],
    timeoutMs: 2000,
    cacheS: options.cacheS ?? 30,
    logger,
    capacity: options.capacity,
    now: () => clockMs,
  });
  return { authHook, lines };
}

describe('AuthHook against a real HTTP hook, with an injected clock', () => {
  it('keeps at most `capacity` answers, the least recently used going first', async () => {
    hook.grant({ subscribe: ['**'] });
    const { authHook } = makeHook({ capacity: 2 });
    await authHook.authorize(header('a'), ['c']);
    await authHook.authorize(header('b'), ['c']);
    await authHook.authorize(header('a'), ['c']); // a is now the most recently used
    await authHook.authorize(header('c'), ['c']); // pushes out b
    expect(hook.calls).toHaveLength(3);
    await authHook.authorize(header('a'), ['c']);
    expect(hook.calls).toHaveLength(3);
    await authHook.authorize(header('b'), ['c']);
    expect(hook.calls.map((call) => call.body.headers.cookie)).toEqual(['a', 'b', 'c', 'b']);
  });

  it('reuses an answer for AUTH_HOOK_CACHE_S, never past its expiresAt', async () => {
    hook.grant({ subscribe: ['**'], expiresAt: new Date(clockMs + 10_000).toISOString() });
    const { authHook } = makeHook({ cacheS: 30 });
    await authHook.authorize(header('s'), ['c']);
    clockMs += 9_999;
    await authHook.authorize(header('s'), ['c']);
    expect(hook.calls).toHaveLength(1);
    clockMs += 1;
    await authHook.authorize(header('s'), ['c']);
    expect(hook.calls).toHaveLength(2);

    hook.grant({ subscribe: ['**'] });
    await authHook.authorize(header('t'), ['c']);
    clockMs += 29_999;
    await authHook.authorize(header('t'), ['c']);
    expect(hook.calls).toHaveLength(3);
    clockMs += 1;
    await authHook.authorize(header('t'), ['c']);
    expect(hook.calls).toHaveLength(4);
  });

  it('shares one call among concurrent identical requests', async () => {
    hook.grant({ subscribe: ['**'] });
    const { authHook } = makeHook({ cacheS: 0 });
    const verdicts = await Promise.all(Array.from({ length: 50 }, () => authHook.authorize(header('same'), ['b', 'a'])));
    expect(hook.calls).toHaveLength(1);
    expect(hook.calls[0]?.body.channels).toEqual(['a', 'b']);
    expect(new Set(verdicts).size).toBe(1);
    await authHook.authorize(header('same'), ['a', 'b']);
    expect(hook.calls).toHaveLength(2);
  });

  it('logs a failure once per kind per minute, without the URL or the forwarded values', async () => {
    hook.reply = () => ({ status: 500 });
    const { authHook, lines } = makeHook({ cacheS: 0 });
    const fail = (): Promise<unknown> => authHook.authorize(header('secret-session-value'), ['c']).catch((error: unknown) => error);
    expect(await fail()).toBeInstanceOf(AuthUnavailableError);
    await fail();
    await fail();
    hook.reply = () => ({ status: 200, body: 'not json' });
    await fail();
    expect(lines).toHaveLength(2);
    clockMs += 60_000;
    hook.reply = () => ({ status: 502 });
    await fail();
    expect(lines).toHaveLength(3);
    const logged = lines.map((line) => JSON.parse(line) as { kind: string; suppressed: number; msg: string });
    expect(logged.map(({ kind, suppressed }) => ({ kind, suppressed }))).toEqual([
      { kind: 'status', suppressed: 0 },
      { kind: 'malformed', suppressed: 0 },
      { kind: 'status', suppressed: 2 },
    ]);
    expect(logged[2]?.msg).toContain('HTTP 502');
    const text = lines.join('');
    expect(text).not.toContain('secret-session-value');
    expect(text).not.toContain(hook.url);
    expect(text).not.toContain('127.0.0.1');
  });

  it('logs an unreachable hook by its error code, not its address', async () => {
    const url = await HookServer.unreachableUrl();
    const { authHook, lines } = makeHook({ url });
    await expect(authHook.authorize(header('x'), ['c'])).rejects.toBeInstanceOf(AuthUnavailableError);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('ECONNREFUSED');
    expect(lines[0]).not.toContain(url);
    expect(lines[0]).not.toContain('127.0.0.1');
  });
});

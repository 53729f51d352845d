import { eventually } from '../helpers/eventually';
import { HookServer } from '../helpers/hook-server';
import { startTestServer, type TestServer } from '../helpers/test-server';

/** Opens a stream and tells whether it was served (an open stream) or told to come back later. */
async function openStream(url: string, cookie: string): Promise<{ served: boolean; close: () => void }> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { Cookie: cookie }, signal: abort.signal });
  const reader = response.body?.getReader();
  const first = await reader?.read();
  const text = first?.value === undefined ? '' : Buffer.from(first.value).toString('utf8');
  // The busy answer is a `retry:` alone, then the end; a served stream goes on (priming id, events).
  const busy = /^retry: \d+\n\n$/.test(text) && (await reader?.read())?.done === true;
  return { served: !busy, close: () => abort.abort() };
}

describe('MAX_CLIENTS while streams wait for their authorization', () => {
  let hook: HookServer;
  let server: TestServer;
  beforeAll(async () => {
    hook = await HookServer.start();
    server = await startTestServer('memory', { AUTH_HOOK_URL: hook.url, AUTH_HOOK_CACHE_S: '0', AUTH_HOOK_TIMEOUT_MS: '20000', MAX_CLIENTS: '2', PUBLIC_CHANNELS: 'lobby' });
  });
  afterAll(async () => {
    await server.close();
    await hook.close();
  });

  it('serves no more streams than MAX_CLIENTS when more were admitted while the hook was deciding', async () => {
    hook.reply = () => 'hang';
    // Distinct cookies: five hook calls in flight at once, not one shared call.
    const opening = [1, 2, 3, 4, 5].map((n) => openStream(`${server.url}/channels/room.a/stream`, `sid=user-${n}`));
    await eventually(() => hook.calls.length === 5, 'five hook calls in flight');
    hook.release({ status: 200, body: { subscribe: ['room.*'] } });
    const outcomes = await Promise.all(opening);
    try {
      expect(outcomes.filter((outcome) => outcome.served)).toHaveLength(2);
      expect(server.hub.clientCount).toBe(2);
    } finally {
      for (const outcome of outcomes) outcome.close();
    }
    await eventually(() => server.hub.clientCount === 0, 'every stream closed');
  });
});

import { makeKey, signToken } from '../helpers/access-tokens';
import { HookServer } from '../helpers/hook-server';
import { waitForPresence } from '../helpers/presence';
import { OpenStreams, SseClient } from '../helpers/sse-client';
import { startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const streams = new OpenStreams();
afterEach(() => streams.closeAll());

const SESSION = { Cookie: 'sid=alice-session' };

/** What a read answered: status, error code, and for a stream whether it was the busy answer. */
async function read(url: string, headers: Record<string, string> = {}): Promise<{ status: number; code: string | null; busy: boolean }> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    // The busy answer is a `retry:` and the end; an open stream is closed here.
    const reader = response.body?.getReader();
    const first = await reader?.read();
    const text = first?.value === undefined ? '' : Buffer.from(first.value).toString('utf8');
    const next = /^retry: \d+\n\n$/.test(text) ? await reader?.read() : undefined;
    abort.abort();
    return { status: response.status, code: null, busy: next?.done === true };
  }
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code ?? null, busy: false };
}

describe('authorizing reads through AUTH_HOOK_URL (no JWT key)', () => {
  let hook: HookServer;
  let server: Server;
  const paths = (channel: string): string[] => [`/channels/${channel}/stream`, `/streams?channel=${channel}`, `/channels/${channel}/events`, `/channels/${channel}/presence`];

  beforeAll(async () => {
    hook = await HookServer.start();
    server = await startTestServer('memory', {
      AUTH_HOOK_URL: hook.url,
      AUTH_HOOK_HEADERS: 'cookie,x-tenant',
      AUTH_HOOK_CACHE_S: '0',
      AUTH_HOOK_TIMEOUT_MS: '300',
      PUBLIC_CHANNELS: 'lobby',
      PRESENCE_CHANNELS: 'room.*',
    });
  });
  afterAll(async () => {
    await server.close();
    await hook.close();
  });
  beforeEach(() => {
    hook.calls.length = 0;
  });

  it('posts the private channels and only the named headers that are present, as JSON', async () => {
    hook.grant({ sub: 'alice', subscribe: ['room.*'] });
    const outcome = await read(`${server.url}/channels/room.a/events`, { ...SESSION, 'X-Other': 'not forwarded' });
    expect(outcome.status).toBe(200);
    expect(hook.calls).toEqual([{ contentType: 'application/json', body: { channels: ['room.a'], headers: { cookie: 'sid=alice-session' } } }]);
    await read(`${server.url}/streams?channel=room.b&channel=lobby&channel=room.a`, { ...SESSION, 'X-Tenant': 't1' });
    expect(hook.calls[1]?.body).toEqual({ channels: ['room.a', 'room.b'], headers: { cookie: 'sid=alice-session', 'x-tenant': 't1' } });
  });

  it("grants every read route as a token would, and refuses a channel its answer does not cover with 403", async () => {
    hook.grant({ sub: 'alice', subscribe: ['room.*', 'user.{sub}'] });
    for (const path of [...paths('room.a'), ...paths('user.alice').slice(0, 3)]) {
      expect([path, (await read(`${server.url}${path}`, SESSION)).status]).toEqual([path, 200]);
    }
    for (const path of [...paths('orders'), ...paths('user.bob').slice(0, 3), '/streams?channel=room.a&channel=orders']) {
      expect([path, await read(`${server.url}${path}`, SESSION)]).toEqual([path, { status: 403, code: 'forbidden', busy: false }]);
    }
  });

  it("shows the hook's sub and info in presence", async () => {
    hook.grant({ sub: 'alice', info: { name: 'Alice' }, subscribe: ['room.*'] });
    await streams.open(`${server.url}/channels/room.p/stream`, SESSION);
    const presence = await waitForPresence(server.url, (body) => body.connections === 1, 'room.p', 10_000, SESSION);
    expect(presence.members).toEqual([{ sub: 'alice', info: { name: 'Alice' }, connections: 1 }]);
  });

  it.each([
    [401, 'unauthorized'],
    [403, 'forbidden'],
  ])('passes the hook’s %i on to every read route as %s', async (status, code) => {
    hook.reply = () => ({ status });
    for (const path of paths('room.a')) {
      expect([path, await read(`${server.url}${path}`, SESSION)]).toEqual([path, { status, code, busy: false }]);
    }
  });

  it.each([
    ['a 500', () => ({ status: 500, body: { sub: 'x', subscribe: ['**'] } })],
    ['a 302', () => ({ status: 302 })],
    ['malformed JSON', () => ({ status: 200, body: '{"subscribe": [' })],
    ['an answer without subscribe', () => ({ status: 200, body: { sub: 'alice' } })],
    ['a malformed pattern', () => ({ status: 200, body: { subscribe: ['room.*x'] } })],
    ['an expiresAt that is not a time', () => ({ status: 200, body: { subscribe: ['**'], expiresAt: 'soon' } })],
    ['an answer over 64 KB', () => ({ status: 200, body: { subscribe: ['**'], info: {}, padding: 'x'.repeat(70_000) } })],
    ['no answer within AUTH_HOOK_TIMEOUT_MS', () => 'hang' as const],
  ])('answers %s from the hook with 503 auth_unavailable (history, presence) and the busy answer (streams)', async (_kind, reply) => {
    hook.reply = reply;
    for (const path of paths('room.a')) {
      const expected = path.includes('stream') ? { status: 200, code: null, busy: true } : { status: 503, code: 'auth_unavailable', busy: false };
      expect([path, await read(`${server.url}${path}`, SESSION)]).toEqual([path, expected]);
    }
  });

  it('ends a stream authorized by an answer with expiresAt after hub.reauth', async () => {
    const expiresAt = new Date(Date.now() + 4000).toISOString();
    hook.grant({ sub: 'alice', subscribe: ['room.*'], expiresAt });
    const client = await streams.open(`${server.url}/channels/room.x/stream`, SESSION);
    await client.waitFor((c) => c.messages.some((m) => m.event === 'hub.reauth'), 10_000, 'hub.reauth');
    expect(client.messages.find((m) => m.event === 'hub.reauth')).toEqual({ id: undefined, event: 'hub.reauth', data: JSON.stringify({ expiresAt }) });
    await client.waitFor((c) => c.ended, 10_000, 'the end at expiry');
  });

  it('refuses an answer whose expiresAt has passed with 401', async () => {
    hook.grant({ sub: 'alice', subscribe: ['room.*'], expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(await read(`${server.url}/channels/room.a/events`, SESSION)).toEqual({ status: 401, code: 'unauthorized', busy: false });
  });

  it('never calls the hook for a public channel', async () => {
    hook.grant({ subscribe: ['**'] });
    expect((await read(`${server.url}/channels/lobby/events`, SESSION)).status).toBe(200);
    expect((await read(`${server.url}/channels/lobby/stream`, SESSION)).status).toBe(200);
    expect(hook.calls).toHaveLength(0);
  });

  it('refuses a bearer token or a ticket without calling the hook when no key is configured', async () => {
    hook.grant({ subscribe: ['**'] });
    expect(await read(`${server.url}/channels/room.a/events`, { Authorization: 'Bearer a.b.c' })).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await read(`${server.url}/channels/room.a/events?ticket=abc`, SESSION)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(hook.calls).toHaveLength(0);
  });
});

describe('an unreachable hook', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer('memory', { AUTH_HOOK_URL: await HookServer.unreachableUrl(), PUBLIC_CHANNELS: '' });
  });
  afterAll(() => server.close());

  it('answers 503 auth_unavailable on history and presence and the busy answer on streams, never a 401 or 500', async () => {
    expect(await read(`${server.url}/channels/chat/events`, SESSION)).toEqual({ status: 503, code: 'auth_unavailable', busy: false });
    expect(await read(`${server.url}/channels/chat/presence`, SESSION)).toEqual({ status: 503, code: 'auth_unavailable', busy: false });
    expect(await read(`${server.url}/channels/chat/stream`, SESSION)).toEqual({ status: 200, code: null, busy: true });
    expect(await read(`${server.url}/streams?channel=chat`, SESSION)).toEqual({ status: 200, code: null, busy: true });
  });
});

describe('a token, ticket or cookie token comes before the hook', () => {
  const key = makeKey('HS256');
  let hook: HookServer;
  let server: Server;
  beforeAll(async () => {
    hook = await HookServer.start();
    hook.grant({ sub: 'from-hook', subscribe: ['**'] });
    server = await startTestServer('memory', { ...key.env, AUTH_HOOK_URL: hook.url, PUBLIC_CHANNELS: 'lobby', PRESENCE_CHANNELS: 'room.*' });
  });
  afterAll(async () => {
    await server.close();
    await hook.close();
  });
  beforeEach(() => {
    hook.calls.length = 0;
  });

  it('judges a valid token itself and never asks the hook', async () => {
    const token = await signToken(key, { subscribe: ['room.a'] }, { sub: 'from-token' });
    expect((await read(`${server.url}/channels/room.a/events`, { Authorization: `Bearer ${token}`, ...SESSION })).status).toBe(200);
    expect(await read(`${server.url}/channels/room.b/events`, { Authorization: `Bearer ${token}`, ...SESSION })).toMatchObject({ status: 403 });
    expect((await read(`${server.url}/channels/room.a/events`, { Cookie: `sid=x; ssehub_token=${token}` })).status).toBe(200);
    const ticket = (await (await fetch(`${server.url}/tickets`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })).json()) as { ticket: string };
    expect((await read(`${server.url}/channels/room.a/events?ticket=${ticket.ticket}`, SESSION)).status).toBe(200);
    expect(hook.calls).toHaveLength(0);
  });

  it('refuses an invalid token, cookie token or ticket with 401 and never passes it to the hook', async () => {
    const expired = await signToken(key, { subscribe: ['**'] }, { expiresInS: -60 });
    const refused: Array<Record<string, string>> = [{ Authorization: `Bearer ${expired}` }, { Authorization: 'Basic abc' }, { Cookie: `sid=x; ssehub_token=${expired}` }];
    for (const headers of refused) {
      expect(await read(`${server.url}/channels/room.a/events`, headers)).toMatchObject({ status: 401, code: 'unauthorized' });
    }
    expect(await read(`${server.url}/channels/room.a/stream?ticket=unknown`, SESSION)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(hook.calls).toHaveLength(0);
  });

  it('asks the hook when the read carries no credential', async () => {
    expect((await read(`${server.url}/channels/room.a/events`, SESSION)).status).toBe(200);
    expect(hook.calls).toHaveLength(1);
  });
});

describe('the cache of hook answers', () => {
  let hook: HookServer;
  let server: Server;
  beforeAll(async () => {
    hook = await HookServer.start();
    server = await startTestServer('memory', { AUTH_HOOK_URL: hook.url, PUBLIC_CHANNELS: '', MAX_CLIENTS: '1000' });
  });
  afterAll(async () => {
    await server.close();
    await hook.close();
  });
  beforeEach(() => {
    hook.calls.length = 0;
  });

  it('reuses an answer for the same forwarded values and channels, and asks again for others', async () => {
    hook.grant({ sub: 'alice', subscribe: ['**'] });
    for (let i = 0; i < 3; i += 1) expect((await read(`${server.url}/channels/cache.a/events`, { Cookie: 'sid=cache-1' })).status).toBe(200);
    expect(hook.calls).toHaveLength(1);
    await read(`${server.url}/channels/cache.a/events`, { Cookie: 'sid=cache-2' });
    await read(`${server.url}/channels/cache.b/events`, { Cookie: 'sid=cache-1' });
    expect(hook.calls).toHaveLength(3);
  });

  it('reuses a refusal too', async () => {
    hook.reply = () => ({ status: 403 });
    for (let i = 0; i < 3; i += 1) expect((await read(`${server.url}/channels/cache.c/events`, { Cookie: 'sid=refused' })).status).toBe(403);
    expect(hook.calls).toHaveLength(1);
  });

  it('does not reuse a failure', async () => {
    hook.reply = () => ({ status: 500 });
    expect((await read(`${server.url}/channels/cache.d/events`, { Cookie: 'sid=failing' })).status).toBe(503);
    hook.grant({ subscribe: ['**'] });
    expect((await read(`${server.url}/channels/cache.d/events`, { Cookie: 'sid=failing' })).status).toBe(200);
    expect(hook.calls).toHaveLength(2);
  });

  it('survives a reconnect storm of 500 streams with one cookie with a handful of hook calls', async () => {
    hook.grant({ sub: 'storm', subscribe: ['**'] });
    const clients = await Promise.all(Array.from({ length: 500 }, () => SseClient.open(`${server.url}/channels/storm/stream`, { Cookie: 'sid=storm' })));
    try {
      expect(clients.map((client) => client.response?.statusCode)).toEqual(clients.map(() => 200));
      expect(hook.calls.length).toBeGreaterThanOrEqual(1);
      expect(hook.calls.length).toBeLessThanOrEqual(3);
    } finally {
      for (const client of clients) client.close();
    }
  });
});

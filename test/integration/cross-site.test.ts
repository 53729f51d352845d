import { makeKey, signToken } from '../helpers/access-tokens';
import { HookServer } from '../helpers/hook-server';
import { startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const LISTED = 'https://app.example.com';
const FOREIGN = 'https://evil.example.net';

async function read(url: string, headers: Record<string, string>): Promise<{ status: number; code: string | null }> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    abort.abort();
    return { status: response.status, code: null };
  }
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code ?? null };
}

describe.each([false, true])('cross-site reads with the cookie or through the hook (TRUST_PROXY=%s)', (trustProxy) => {
  const key = makeKey('HS256');
  let hook: HookServer;
  let server: Server;
  let token: string;
  let ownOrigin: string;
  let proxyHeaders: Record<string, string>;
  const routes = ['stream', 'history', 'presence'] as const;
  const path = (route: (typeof routes)[number]): string => `/channels/room.a/${route === 'history' ? 'events' : route}`;

  beforeAll(async () => {
    hook = await HookServer.start();
    hook.grant({ sub: 'alice', subscribe: ['room.*'] });
    server = await startTestServer('memory', {
      ...key.env,
      AUTH_HOOK_URL: hook.url,
      CORS_ORIGINS: LISTED,
      PUBLIC_CHANNELS: 'lobby',
      PRESENCE_CHANNELS: 'room.*',
      TRUST_PROXY: String(trustProxy),
    });
    token = await signToken(key, { subscribe: ['room.*'] }, { sub: 'alice' });
    // Behind a proxy the request's own origin is the one the proxy received.
    ownOrigin = trustProxy ? 'https://hub.example.com' : server.url;
    proxyHeaders = trustProxy ? { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'hub.example.com' } : {};
  });
  afterAll(async () => {
    await server.close();
    await hook.close();
  });
  beforeEach(() => {
    hook.calls.length = 0;
  });

  it.each(routes)('refuses a cookie-token %s read from a foreign Origin with 403 cross_site', async (route) => {
    const outcome = await read(`${server.url}${path(route)}`, { ...proxyHeaders, Cookie: `ssehub_token=${token}`, Origin: FOREIGN });
    expect(outcome).toEqual({ status: 403, code: 'cross_site' });
  });

  it('serves a public channel to a foreign Origin as to anyone, without using the cookie (no presence as its holder)', async () => {
    const cookie = { ...proxyHeaders, Cookie: `ssehub_token=${token}`, Origin: FOREIGN };
    expect(await read(`${server.url}/channels/lobby/events`, cookie)).toEqual({ status: 200, code: null });
    const abort = new AbortController();
    const stream = await fetch(`${server.url}/channels/lobby/stream`, { headers: cookie, signal: abort.signal });
    try {
      expect(stream.status).toBe(200);
      // The cookie was not read: no credential, so no expiry and no sub behind this stream.
      expect(server.hub.deadlineCount).toBe(0);
    } finally {
      abort.abort();
    }
  });

  it.each(routes)('refuses a %s read that would go to the hook from a foreign Origin before calling it', async (route) => {
    const outcome = await read(`${server.url}${path(route)}`, { ...proxyHeaders, Cookie: 'sid=alice', Origin: FOREIGN });
    expect(outcome).toEqual({ status: 403, code: 'cross_site' });
    expect(hook.calls).toHaveLength(0);
  });

  it.each(routes)('allows cookie and hook %s reads from the own origin, a listed origin, or without Origin', async (route) => {
    for (const origin of [ownOrigin, LISTED, undefined]) {
      const originHeader: Record<string, string> = origin === undefined ? {} : { Origin: origin };
      expect([origin, await read(`${server.url}${path(route)}`, { ...proxyHeaders, ...originHeader, Cookie: `ssehub_token=${token}` })]).toEqual([origin, { status: 200, code: null }]);
      expect([origin, await read(`${server.url}${path(route)}`, { ...proxyHeaders, ...originHeader, Cookie: 'sid=alice' })]).toEqual([origin, { status: 200, code: null }]);
    }
  });

  it('judges a header token from a foreign Origin as before (no ambient credential)', async () => {
    const outcome = await read(`${server.url}${path('history')}`, { ...proxyHeaders, Authorization: `Bearer ${token}`, Origin: FOREIGN });
    expect(outcome).toEqual({ status: 200, code: null });
  });
});

describe('the own origin is not taken from forwarded headers without TRUST_PROXY', () => {
  const key = makeKey('HS256');
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer('memory', { ...key.env, PUBLIC_CHANNELS: '' });
  });
  afterAll(() => server.close());

  it('refuses an Origin that only matches X-Forwarded-Host', async () => {
    const token = await signToken(key, { subscribe: ['**'] });
    const outcome = await read(`${server.url}/channels/room.a/events`, {
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'evil.example.net',
      Origin: FOREIGN,
      Cookie: `ssehub_token=${token}`,
    });
    expect(outcome).toEqual({ status: 403, code: 'cross_site' });
  });
});

import { makeKey, signToken } from '../helpers/access-tokens';
import { OpenStreams, SseClient } from '../helpers/sse-client';
import { TEST_NAMESPACES, writeChannelsConfig } from '../helpers/channels-config';
import { startTestServer, type TestServer } from '../helpers/test-server';

type Server = TestServer;

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

function api(server: Server, method: string, path: string, body?: unknown, headers: Record<string, string> = admin): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

// Every row has its body (undefined too): jest passes a `done` callback to a test function
// that takes more arguments than the row has.
const ROUTES: Array<[method: string, path: string, body: unknown]> = [
  ['POST', '/api/broadcast', { channels: ['a'], data: 1 }],
  ['POST', '/api/disconnect', { sub: 'x' }],
  ['POST', '/api/revoke', { sub: 'x' }],
  ['GET', '/api/channels', undefined],
  ['GET', '/api/stats', undefined],
  ['GET', '/api/stats/stream', undefined],
  ['DELETE', '/api/channels/a/history', undefined],
  ['GET', '/admin', undefined],
];

describe('the server API without ADMIN_TOKEN', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer('memory');
  });
  afterAll(() => server.close());

  it.each(ROUTES)('answers %s %s with 404 not_found, even with a bearer', async (method, path, body) => {
    const response = await api(server, method, path, body);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it.each([
    ['GET', '/api/broadcast'],
    ['OPTIONS', '/api/stats'],
    ['POST', '/admin'],
    ['OPTIONS', '/admin'],
  ])('answers %s %s with 404 too: no 405 or Allow header that would tell the routes exist', async (method, path) => {
    const response = await fetch(`${server.url}${path}`, { method });
    expect(response.status).toBe(404);
    expect(response.headers.get('allow')).toBeNull();
  });
});

describe('the server API with ADMIN_TOKEN (in-process broker)', () => {
  let server: Server;
  const streams = new OpenStreams();
  const key = makeKey('HS256');

  beforeAll(async () => {
    server = await startTestServer('memory', { ADMIN_TOKEN, ...key.env, MAX_EVENT_BYTES: '1024' });
  });
  afterEach(() => streams.closeAll());
  afterAll(() => server.close());

  const streamAs = async (channel: string, sub?: string): Promise<SseClient> => {
    const headers: Record<string, string> = sub === undefined ? {} : { Authorization: `Bearer ${await signToken(key, {}, { sub })}` };
    const client = await streams.open(`${server.url}/channels/${channel}/stream`, headers);
    expect(client.response?.statusCode).toBe(200);
    return client;
  };

  it.each(ROUTES.filter(([, path]) => path !== '/admin'))('answers %s %s without a bearer with 401 unauthorized and WWW-Authenticate', async (method, path, body) => {
    const response = await api(server, method, path, body, {});
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it.each(ROUTES.filter(([, path]) => path !== '/admin'))('answers %s %s with another bearer (or the token as a cookie) with 401 invalid_token', async (method, path, body) => {
    const wrong = await api(server, method, path, body, { Authorization: 'Bearer admin-token-for-tests-0123456788' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const cookie = await api(server, method, path, body, { Cookie: `ssehub_token=${ADMIN_TOKEN}` });
    expect(cookie.status).toBe(401);
  });

  it('serves the dashboard page without a bearer (the page asks for the token)', async () => {
    const response = await fetch(`${server.url}/admin`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`${server.url}/admin/vendor/uplot.js`)).status).toBe(200);
  });

  it('broadcasts one event per channel, each with its own id, results in the order given', async () => {
    const [a, b] = [await streamAs('bc.a'), await streamAs('bc.b')];
    const response = await api(server, 'POST', '/api/broadcast', { channels: ['bc.b', 'bad channel', 'bc.a'], event: 'note', data: { n: 1 } });
    expect(response.status).toBe(201);
    const { results } = (await response.json()) as { results: Array<{ channel: string; id?: string; error?: { code: string } }> };
    expect(results.map((result) => result.channel)).toEqual(['bc.b', 'bad channel', 'bc.a']);
    expect(results[0]?.id).toMatch(/^[0-9]+$/);
    expect(results[1]?.error?.code).toBe('invalid_channel');
    expect(results[2]?.id).toMatch(/^[0-9]+$/);
    await a.waitForMessages(1);
    await b.waitForMessages(1);
    expect(a.messages[0]).toEqual({ id: results[2]?.id, event: 'note', data: '{"n":1}' });
    expect(b.messages[0]).toEqual({ id: results[0]?.id, event: 'note', data: '{"n":1}' });
  });

  it('refuses broadcast bodies as publishing does: 415, 413, 400 invalid_json / invalid_event / invalid_channel', async () => {
    const codes = async (body: string, type = 'application/json'): Promise<[number, string]> => {
      const response = await fetch(`${server.url}/api/broadcast`, { method: 'POST', headers: { ...admin, 'Content-Type': type }, body });
      return [response.status, ((await response.json()) as { error: { code: string } }).error.code];
    };
    expect(await codes('{"channels":["a"],"data":1}', 'text/plain')).toEqual([415, 'unsupported_media_type']);
    expect(await codes(JSON.stringify({ channels: ['a'], data: 'x'.repeat(2000) }))).toEqual([413, 'payload_too_large']);
    expect(await codes('{"channels":')).toEqual([400, 'invalid_json']);
    expect(await codes('{"channels":["a"]}')).toEqual([400, 'invalid_event']);
    expect(await codes('{"channels":["a"],"event":"hub.x","data":1}')).toEqual([400, 'invalid_event']);
    expect(await codes('{"channels":[],"data":1}')).toEqual([400, 'invalid_channel']);
    expect(await codes('{"channels":["a","a"],"data":1}')).toEqual([400, 'invalid_channel']);
  });

  it('disconnects the streams of a sub on a channel with hub.disconnect and leaves the others open', async () => {
    const target = await streamAs('dc.room', 'alice');
    const otherChannel = await streamAs('dc.other', 'alice');
    const otherSub = await streamAs('dc.room', 'bob');
    const response = await api(server, 'POST', '/api/disconnect', { sub: 'alice', channel: 'dc.room', reconnect: false, reason: 'bye' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    await target.waitForEnd();
    expect(target.messages).toEqual([{ id: undefined, event: 'hub.disconnect', data: '{"reason":"bye","reconnect":false}' }]);
    // A publish after the order reaches the streams that stayed.
    const published = await api(server, 'POST', '/api/broadcast', { channels: ['dc.room', 'dc.other'], data: 'still here' });
    expect(published.status).toBe(201);
    await otherChannel.waitForMessages(1);
    await otherSub.waitForMessages(1);
    expect([otherChannel.ended, otherSub.ended]).toEqual([false, false]);
  });

  it('disconnects every stream of a sub when no channel is given, reconnect true by default', async () => {
    const first = await streamAs('dca.one', 'carol');
    const second = await streamAs('dca.two', 'carol');
    expect((await api(server, 'POST', '/api/disconnect', { sub: 'carol' })).status).toBe(200);
    await Promise.all([first.waitForEnd(), second.waitForEnd()]);
    expect(JSON.parse(first.messages[0]?.data ?? '')).toEqual({ reason: 'disconnected by the operator', reconnect: true });
  });

  it('refuses malformed disconnect and revoke orders with 400', async () => {
    const statusOf = async (path: string, body: unknown): Promise<number> => (await api(server, 'POST', path, body)).status;
    expect(await statusOf('/api/disconnect', {})).toBe(400);
    expect(await statusOf('/api/disconnect', { sub: 'a', reconnect: 'no' })).toBe(400);
    expect(await statusOf('/api/disconnect', { sub: 'a', channel: 'bad channel' })).toBe(400);
    expect(await statusOf('/api/revoke', { sub: 'a', jti: 'b' })).toBe(400);
    expect(await statusOf('/api/revoke', {})).toBe(400);
    expect(await statusOf('/api/revoke', { sub: 'a', before: 'yesterday' })).toBe(400);
    expect(await statusOf('/api/revoke', { sub: 'a', before: '2026-13-45T99:00:00Z' })).toBe(400);
  });

  it('lists channels with open streams busiest first, filtered by pattern, limited', async () => {
    for (const [channel, count] of [['ch.a', 1], ['ch.b', 3], ['ch.c', 2], ['other', 1]] as const) {
      for (let index = 0; index < count; index++) await streamAs(channel);
    }
    const all = (await (await api(server, 'GET', '/api/channels?pattern=ch.*')).json());
    expect(all).toEqual({
      channels: [
        { channel: 'ch.b', connections: 3 },
        { channel: 'ch.c', connections: 2 },
        { channel: 'ch.a', connections: 1 },
      ],
      instances: 1,
    });
    const limited = (await (await api(server, 'GET', '/api/channels?limit=1')).json()) as { channels: unknown[] };
    expect(limited.channels).toEqual([{ channel: 'ch.b', connections: 3 }]);
    for (const query of ['pattern=a..b', 'pattern=**.a', 'limit=0', 'limit=1001', 'limit=x', 'limit=1&limit=2']) {
      const response = await api(server, 'GET', `/api/channels?${query}`);
      expect([query, response.status]).toEqual([query, 400]);
    }
  });

  it.each([
    ['/api/disconnect', []],
    ['/api/disconnect', { sub: '' }],
    ['/api/disconnect', { sub: 'x', reconnect: 'no' }],
    ['/api/disconnect', { sub: 'x', extra: 1 }],
    ['/api/revoke', {}],
    ['/api/revoke', { sub: 'x', jti: 'y' }],
    ['/api/revoke', { sub: 'x', before: 'yesterday' }],
  ])('refuses a malformed order to %s (%j) with 400 invalid_body, a code of the contract', async (path, body) => {
    const response = await api(server, 'POST', path, body);
    expect([response.status, ((await response.json()) as { error: { code: string } }).error.code]).toEqual([400, 'invalid_body']);
  });

  it('lets a CORS preflight from an allowed origin ask for DELETE (history removal)', async () => {
    const cors = await startTestServer('memory', { ADMIN_TOKEN, CORS_ORIGINS: 'https://ops.example' });
    try {
      const response = await fetch(`${cors.url}/api/channels/a/history`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://ops.example', 'Access-Control-Request-Method': 'DELETE', 'Access-Control-Request-Headers': 'authorization' },
      });
      expect(response.headers.get('access-control-allow-methods')).toContain('DELETE');
    } finally {
      await cors.close();
    }
  });

  it("reports this instance's figures on /api/stats", async () => {
    const response = await api(server, 'GET', '/api/stats');
    expect(response.status).toBe(200);
    const stats = (await response.json()) as { instances: Array<Record<string, unknown>>; totals: Record<string, unknown> };
    expect(stats.instances).toHaveLength(1);
    expect(Object.keys(stats.instances[0] ?? {}).sort()).toEqual(
      ['id', 'startedAt', 'version', 'configFingerprint', 'connections', 'channels', 'publishedPerSecond', 'deliveredPerSecond', 'droppedSlow', 'gapsRepaired', 'eventLoopLagMs', 'broker'].sort(),
    );
    expect(stats.instances[0]).toMatchObject({ broker: 'ready', version: expect.stringMatching(/^\d+\.\d+\.\d+/) as unknown, configFingerprint: '' });
    expect(stats.totals).toMatchObject({ instances: 1 });
  });

  it('streams `event: stats` at once and every second, and the connection count follows new streams', async () => {
    const stats = await streams.open(`${server.url}/api/stats/stream`, admin);
    expect(stats.response?.headers['content-type']).toMatch(/^text\/event-stream/);
    await stats.waitForMessages(1);
    expect(stats.messages[0]?.event).toBe('stats');
    const connectionsNow = (): number => (JSON.parse(stats.messages[stats.messages.length - 1]?.data ?? '{}') as { totals: { connections: number } }).totals.connections;
    const before = connectionsNow();
    await streamAs('stats.watch');
    await streamAs('stats.watch');
    await stats.waitFor(() => connectionsNow() >= before + 2, 10_000, 'the new streams counted');
  });

  it('deletes a channel history: 204, then a resumer gets hub.gap and the next publish starts again', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index++) {
      const response = await api(server, 'POST', '/api/broadcast', { channels: ['hist.x'], data: index });
      ids.push(((await response.json()) as { results: Array<{ id: string }> }).results[0]?.id ?? '');
    }
    const deleted = await api(server, 'DELETE', '/api/channels/hist.x/history');
    expect(deleted.status).toBe(204);
    const history = (await (await fetch(`${server.url}/channels/hist.x/events`)).json()) as { events: unknown[] };
    expect(history.events).toEqual([]);
    const resumer = await streams.open(`${server.url}/channels/hist.x/stream`, { 'Last-Event-ID': ids[2] ?? '' });
    await resumer.waitForMessages(1);
    expect(resumer.messages[0]).toEqual({ id: undefined, event: 'hub.gap', data: JSON.stringify({ lastEventId: ids[2], firstAvailableId: null }) });
    const next = await api(server, 'POST', '/api/broadcast', { channels: ['hist.x'], data: 'again' });
    const nextId = ((await next.json()) as { results: Array<{ id: string }> }).results[0]?.id ?? '';
    expect(BigInt(nextId)).toBeGreaterThan(BigInt(ids[2] ?? ''));
    expect((await api(server, 'DELETE', '/api/channels/bad%20name/history')).status).toBe(400);
  });
});

describe('POST /api/broadcast under CHANNELS_CONFIG (in-process broker)', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer('memory', { ADMIN_TOKEN, CHANNELS_CONFIG: writeChannelsConfig(TEST_NAMESPACES), JWT_SECRET: 'a-test-secret-of-at-least-thirty-two-bytes!!' });
  });
  afterAll(() => server.close());

  it("checks each channel as a publish there would be: the contract (with details), the body limit, ephemeral channels' null id", async () => {
    const response = await api(server, 'POST', '/api/broadcast', { channels: ['typed.a', 'eph.a', 'small.a', 'open.a'], event: 'tick', data: { price: 'high', pad: 'x'.repeat(120) } });
    expect(response.status).toBe(201);
    const { results } = (await response.json()) as { results: Array<{ channel: string; id?: string | null; error?: { code: string; details?: unknown[] } }> };
    expect(results.map((result) => result.channel)).toEqual(['typed.a', 'eph.a', 'small.a', 'open.a']);
    expect(results[0]?.error?.code).toBe('invalid_data');
    expect(results[0]?.error?.details?.length).toBeGreaterThan(0);
    expect(results[1]).toEqual({ channel: 'eph.a', id: null });
    expect(results[2]?.error?.code).toBe('payload_too_large');
    expect(results[3]?.id).toMatch(/^\d+$/);
  });

  it("bounds each event by its channel's maxEventBytes, not the whole body with its list of channels", async () => {
    // 30 channel names take far more than small.*'s 100 bytes; the event itself is small.
    const channels = Array.from({ length: 30 }, (_, n) => `small.channel-number-${n}`);
    const response = await api(server, 'POST', '/api/broadcast', { channels, event: 'tick', data: { p: 1 } });
    expect(response.status).toBe(201);
    const { results } = (await response.json()) as { results: Array<{ channel: string; id?: string | null; error?: unknown }> };
    expect(results.filter((result) => result.error !== undefined)).toEqual([]);
    expect(results).toHaveLength(30);
  });
});

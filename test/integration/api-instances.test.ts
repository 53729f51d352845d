import pino from 'pino';
import { createBroker, type Brokers } from '../../src/broker/create-broker';
import { redisTargetOf } from '../../src/broker/redis/target';
import { makeKey, signToken } from '../helpers/access-tokens';
import { OpenStreams, type SseClient } from '../helpers/sse-client';
import { TcpProxy } from '../helpers/tcp-proxy';
import { eventually } from '../helpers/eventually';
import { startTestServer, testConfig, testRedisUrl, uniquePrefix, type TestServer } from '../helpers/test-server';

type Server = TestServer;

const ADMIN_TOKEN = 'admin-token-for-two-instances-01';

describe('the server API across two instances on one Redis', () => {
  const key = makeKey('HS256');
  const prefix = uniquePrefix();
  const env = { ADMIN_TOKEN, ...key.env, PUBLIC_CHANNELS: '', REDIS_PREFIX: prefix };
  const streams = new OpenStreams();
  let a: Server;
  let b: Server;

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestServer('redis', env), startTestServer('redis', env)]);
  });
  afterEach(() => streams.closeAll());
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  const api = (server: Server, method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const open = async (server: Server, channel: string, jwt: string): Promise<SseClient> =>
    streams.open(`${server.url}/channels/${channel}/stream`, { Authorization: `Bearer ${jwt}` });
  const tokenOf = (sub: string, jti?: string): Promise<string> => signToken(key, { subscribe: ['**'] }, { sub, ...(jti === undefined ? {} : { claims: { jti } }) });

  it('disconnect on A ends the streams of that sub on A and on B, with hub.disconnect, and leaves the others open', async () => {
    const token = await tokenOf('dana');
    const onA = await open(a, 'x.room', token);
    const onB = await open(b, 'x.room', token);
    const other = await open(b, 'x.room', await tokenOf('eve'));
    expect([onA.response?.statusCode, onB.response?.statusCode, other.response?.statusCode]).toEqual([200, 200, 200]);

    const response = await api(a, 'POST', '/api/disconnect', { sub: 'dana', reconnect: false, reason: 'bye' });
    expect([response.status, await response.json()]).toEqual([200, { ok: true }]);

    await Promise.all([onA.waitForEnd(), onB.waitForEnd()]);
    for (const stream of [onA, onB]) expect(stream.messages).toEqual([{ id: undefined, event: 'hub.disconnect', data: '{"reason":"bye","reconnect":false}' }]);
    expect(other.ended).toBe(false);
  });

  it('revoke on A: B refuses the token and ends its stream; an instance started after the revocation refuses it too', async () => {
    const token = await tokenOf('mallory');
    const onB = await open(b, 'x.secret', token);
    expect(onB.response?.statusCode).toBe(200);

    expect((await api(a, 'POST', '/api/revoke', { sub: 'mallory' })).status).toBe(200);

    await onB.waitForEnd();
    expect(onB.messages).toEqual([{ id: undefined, event: 'hub.disconnect', data: '{"reason":"the credential was revoked","reconnect":true}' }]);
    const again = await open(b, 'x.secret', token);
    expect(again.response?.statusCode).toBe(401);
    expect(again.response?.headers['www-authenticate']).toContain('error="invalid_token"');

    const later = await startTestServer('redis', env);
    try {
      const refused = await open(later, 'x.secret', token);
      expect(refused.response?.statusCode).toBe(401);
      const bystander = await open(later, 'x.secret', await tokenOf('trent'));
      expect(bystander.response?.statusCode).toBe(200);
    } finally {
      streams.closeAll();
      await later.close();
    }
  });

  it('revoke by jti on B is honoured by A, for the token and for a ticket made from it', async () => {
    const token = await tokenOf('jude', 'token-7');
    const ticketResponse = await fetch(`${a.url}/tickets`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(ticketResponse.ok).toBe(true);
    const { ticket } = (await ticketResponse.json()) as { ticket: string };
    expect((await streams.open(`${a.url}/channels/x.j/stream?ticket=${ticket}`)).response?.statusCode).toBe(200);
    streams.closeAll();

    expect((await api(b, 'POST', '/api/revoke', { jti: 'token-7' })).status).toBe(200);

    // B answered once the revocation was stored and sent; A hears it on the control channel.
    await eventually(async () => (await open(a, 'x.j', token)).response?.statusCode === 401, 'A refusing the revoked jti');
    const viaTicket = await streams.open(`${a.url}/channels/x.j/stream?ticket=${ticket}`);
    expect(viaTicket.response?.statusCode).toBe(401);
    expect((await open(a, 'x.j', await tokenOf('jude', 'token-8'))).response?.statusCode).toBe(200);
  });

  it('GET /api/stats lists both instances, and a closed one leaves', async () => {
    const third = await startTestServer('redis', env);
    const ids = (stats: { instances: Array<{ id: string }> }): number => stats.instances.length;
    const read = async (): Promise<{ instances: Array<{ id: string }>; totals: { instances: number } }> => (await (await api(a, 'GET', '/api/stats')).json()) as never;
    const withThree = await eventually(async () => {
      const stats = await read();
      return ids(stats) === 3 && stats;
    }, 'three instances reported');
    expect(withThree.totals.instances).toBe(3);
    await third.close();
    const withTwo = await eventually(async () => {
      const stats = await read();
      return ids(stats) === 2 && stats;
    }, 'the closed instance gone');
    expect(withTwo.totals.instances).toBe(2);
  });

  it('GET /api/channels sums the connections of both instances', async () => {
    const token = await tokenOf('sam');
    await open(a, 'x.busy', token);
    await open(b, 'x.busy', token);
    await open(b, 'x.busy', token);
    await open(b, 'x.quiet', token);
    const report = await eventually(async () => {
      const value = (await (await api(a, 'GET', '/api/channels?pattern=x.*')).json()) as { channels: Array<{ channel: string; connections: number }>; instances: number };
      return value.channels.find((entry) => entry.channel === 'x.busy')?.connections === 3 && value;
    }, 'x.busy counted on both');
    expect(report.instances).toBe(2);
    expect(report.channels).toEqual([
      { channel: 'x.busy', connections: 3 },
      { channel: 'x.quiet', connections: 1 },
    ]);
  });

  it('DELETE /api/channels/:channel/history on A empties the history B reads, and the ids start again', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index++) {
      const response = await api(a, 'POST', '/api/broadcast', { channels: ['x.hist'], data: index });
      ids.push(((await response.json()) as { results: Array<{ id: string }> }).results[0]?.id ?? '');
    }
    const history = async (): Promise<unknown[]> => {
      const response = await fetch(`${b.url}/channels/x.hist/events`, { headers: { Authorization: `Bearer ${await tokenOf('h')}` } });
      return ((await response.json()) as { events: unknown[] }).events;
    };
    expect(await history()).toHaveLength(3);
    expect((await api(a, 'DELETE', '/api/channels/x.hist/history')).status).toBe(204);
    expect(await history()).toEqual([]);
    const next = (await (await api(b, 'POST', '/api/broadcast', { channels: ['x.hist'], data: 'again' })).json()) as { results: Array<{ id: string }> };
    expect(Number(next.results[0]?.id)).toBeGreaterThan(Number(ids[2]));
  });
});

describe('revocations made while an instance was cut from Redis', () => {
  it('are loaded again when it is back: the revoked token is refused there', async () => {
    const key = makeKey('HS256');
    const env = { ADMIN_TOKEN, ...key.env, PUBLIC_CHANNELS: '', REDIS_PREFIX: uniquePrefix() };
    const proxy = await TcpProxy.start(Number(new URL(testRedisUrl()).port));
    const a = await startTestServer('redis', env);
    const b = await startTestServer('redis', { ...env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
    const streams = new OpenStreams();
    try {
      const token = await signToken(key, { subscribe: ['**'] }, { sub: 'offline' });
      const ready = async (): Promise<number> => (await fetch(`${b.url}/readyz`)).status;
      proxy.cut();
      await eventually(async () => (await ready()) === 503, 'B to notice the outage');
      const response = await fetch(`${a.url}/api/revoke`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: '{"sub":"offline"}',
      });
      expect(response.status).toBe(200);
      proxy.restore();
      await eventually(async () => (await ready()) === 200, 'B back on Redis');
      await eventually(
        async () => (await streams.open(`${b.url}/channels/x.o/stream`, { Authorization: `Bearer ${token}` })).response?.statusCode === 401,
        'B refusing the token revoked during its outage',
        { timeoutMs: 5000 },
      );
    } finally {
      streams.closeAll();
      await Promise.all([a.close(), b.close()]);
      await proxy.close();
    }
  });
});

describe('the Redis StatsStore', () => {
  let brokers: Brokers[] = [];
  afterEach(async () => {
    await Promise.all(brokers.map((each) => each.close()));
    brokers = [];
  });

  it('leaves out an instance whose last report is older than 10 s, on the store clock', async () => {
    let now = 1_000_000;
    const config = testConfig('redis');
    const open = (): Promise<Brokers> => createBroker({ ...config, redis: redisTargetOf(config), logger: pino({ level: 'silent' }), storeClock: { now: () => now } });
    const [first, second] = await Promise.all([open(), open()]);
    brokers = [first, second];
    await first.stats.report({ id: 'alive', figures: '{}', channels: '[]' });
    await second.stats.report({ id: 'dead', figures: '{}', channels: '[]' });
    expect((await first.stats.readAll()).map((report) => report.id).sort()).toEqual(['alive', 'dead']);

    now += 10_001;
    await first.stats.report({ id: 'alive', figures: '{}', channels: '[]' });
    expect((await second.stats.readAll()).map((report) => report.id)).toEqual(['alive']);
  });
});

import { Redis } from 'ioredis';
import request from 'supertest';
import { chatLogin, memberList, signals, waitForPresence } from '../helpers/presence';
import { OpenStreams, type SseClient } from '../helpers/sse-client';
import { TcpProxy } from '../helpers/tcp-proxy';
import { startTestServer, testRedisUrl, uniquePrefix, type TestServer } from '../helpers/test-server';
import { eventually } from '../helpers/eventually';

const streams = new OpenStreams();
afterEach(() => streams.closeAll());

/** Publishes a marker through `via` and waits until `observer` has it: earlier signals arrived too. */
async function settle(via: string, observer: SseClient): Promise<void> {
  const response = await request(via).post('/channels/chat/events').send({ event: 'marker', data: null }).expect(201);
  const { id } = response.body as { id: string };
  await observer.waitFor((client) => client.messages.some((message) => message.id === id), 10_000, `marker ${id}`);
}

/** Presence refreshes the instance has completed (its metrics). */
async function refreshes(server: TestServer): Promise<number> {
  const text = (await request(server.url).get('/metrics')).text;
  return Number(/^ssehub_presence_refresh_duration_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('presence through a Redis outage longer than its entries live', () => {
  const proxies: TcpProxy[] = [];
  const servers: TestServer[] = [];
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(testRedisUrl());
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    redis.disconnect();
  });

  it('keeps the members of every instance that rode it out: no leave, no second join', async () => {
    const prefix = uniquePrefix();
    const redisPort = Number(new URL(testRedisUrl()).port);
    for (let n = 0; n < 2; n++) {
      const proxy = await TcpProxy.start(redisPort);
      proxies.push(proxy);
      // Entries live 3 × 200 ms, so the outage outlasts them without a 45 s wait.
      servers.push(await startTestServer('redis', { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_PREFIX: prefix, PRESENCE_REFRESH_MS: '200' }));
    }
    const [a, b] = servers as [TestServer, TestServer];
    const observer = await streams.open(`${a.url}/stream`);
    await streams.open(`${a.url}/stream`, await chatLogin(a.url, 'Alice'));
    await streams.open(`${b.url}/stream`, await chatLogin(b.url, 'Bob'));
    await waitForPresence(a.url, (presence) => memberList(presence).join() === 'Alice×1,Bob×1');
    await settle(b.url, observer);
    expect(signals(observer)).toEqual(['join Alice', 'join Bob']);

    for (const proxy of proxies) proxy.cut();
    // The outage lasts until every entry expired in Redis (as seen from Redis' own clock).
    await eventually(async () => {
      const [seconds, micros] = await redis.time();
      const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      return (await redis.zcount(`${prefix}{chat}:presence`, `(${nowMs}`, '+inf')) === 0;
    }, 'the presence entries to expire');
    await eventually(async () => (await request(a.url).get('/readyz')).status === 503, 'instance A to notice the outage');
    for (const proxy of proxies) proxy.restore();
    for (const server of servers) await eventually(async () => (await request(server.url).get('/readyz')).status === 200, 'Redis to be back');

    // A few refreshes later (each sweeps expired entries as usual), nobody left or joined.
    await waitForPresence(a.url, (presence) => memberList(presence).join() === 'Alice×1,Bob×1');
    for (const server of servers) {
      const before = await refreshes(server);
      await eventually(async () => (await refreshes(server)) >= before + 2, 'two more refreshes');
    }
    await settle(b.url, observer);
    expect(signals(observer)).toEqual(['join Alice', 'join Bob']);
    expect(memberList(await waitForPresence(b.url, (presence) => presence.connections === 3))).toEqual(['Alice×1', 'Bob×1']);
  });
});

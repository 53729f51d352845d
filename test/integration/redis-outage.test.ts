import request from 'supertest';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { SseClient } from '../helpers/sse-client';
import { TcpProxy } from '../helpers/tcp-proxy';
import { startTestServer, uniquePrefix, type TestServer } from '../helpers/test-server';
import { eventually } from '../helpers/eventually';
import { publishId, publishJson } from '../helpers/publish';

describe('a Redis outage', () => {
  let redis: RedisServer;
  let servers: TestServer[] = [];
  let clients: SseClient[] = [];

  beforeEach(async () => {
    redis = await startRedisServer();
  });
  afterEach(async () => {
    for (const client of clients) client.close();
    await Promise.all(servers.map((server) => server.close()));
    await redis.stop();
    servers = [];
    clients = [];
  });

  async function startHub(prefix: string): Promise<TestServer> {
    const server = await startTestServer('redis', { REDIS_URL: redis.url, REDIS_PREFIX: prefix, HEARTBEAT_MS: '100' });
    servers.push(server);
    return server;
  }

  it('keeps streams open with heartbeats, answers 503, then resubscribes and resumes with hub.gap after Redis came back empty', async () => {
    const hub = await startHub(uniquePrefix());
    const client = await SseClient.open(`${hub.url}/channels/outage/stream`);
    clients.push(client);
    const before = await publishId(hub.url, 'outage', 'before');
    await client.waitForMessages(1);

    await redis.kill();
    const killedAt = Date.now();
    await eventually(async () => (await request(hub.url).get('/readyz')).status === 503, '/readyz 503', { timeoutMs: 5000 });
    const downAfterMs = Date.now() - killedAt;
    const refused = await publishJson(hub.url, 'outage', 'during');
    expect(refused.status).toBe(503);
    expect((refused.body as { error: { code: string } }).error.code).toBe('broker_unavailable');
    const history = await request(hub.url).get('/channels/outage/events');
    expect(history.status).toBe(503);
    expect((history.body as { error: { code: string } }).error.code).toBe('broker_unavailable');
    // A new stream cannot be replayed now: told to come back later, with a 200 so browsers retry.
    const refusedStream = await SseClient.open(`${hub.url}/channels/outage/stream`);
    clients.push(refusedStream);
    await refusedStream.waitForEnd();
    expect(refusedStream.response?.statusCode).toBe(200);
    expect(refusedStream.retries).toHaveLength(1);
    // The open stream stays open and keeps its heartbeats.
    const heartbeats = client.comments.length;
    await client.waitFor((c) => c.comments.length >= heartbeats + 2, 5000, 'heartbeats during the outage');
    expect(client.ended).toBe(false);

    await redis.start();
    const restartedAt = Date.now();
    await eventually(async () => (await request(hub.url).get('/readyz')).status === 200, '/readyz 200');
    const upAfterMs = Date.now() - restartedAt;
    const after = await publishId(hub.url, 'outage', 'after');
    await client.waitForMessages(3);
    expect(client.messages[0]).toMatchObject({ id: before, data: '"before"' });
    expect(client.messages[1]).toEqual({
      id: undefined,
      event: 'hub.gap',
      data: JSON.stringify({ lastEventId: before, firstAvailableId: after }),
    });
    expect(client.messages[2]).toMatchObject({ id: after, data: '"after"' });
    expect(Number(after)).toBeGreaterThan(Number(before));
    process.stdout.write(`redis outage: /readyz 503 after ${downAfterMs} ms, 200 again ${upAfterMs} ms after restart\n`);
  });

  it('delivers events another instance published while this one was cut off from Redis, once and in order', async () => {
    const prefix = uniquePrefix();
    const proxy = await TcpProxy.start(redis.port);
    try {
      const hub = await startTestServer('redis', { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_PREFIX: prefix });
      servers.push(hub);
      const publisher = await startHub(prefix);
      const client = await SseClient.open(`${hub.url}/channels/catchup/stream`);
      clients.push(client);
      const first = await publishId(publisher.url, 'catchup', 0);
      await client.waitForMessages(1);

      proxy.cut();
      await eventually(async () => (await request(hub.url).get('/readyz')).status === 503, 'the cut-off hub to notice', { timeoutMs: 5000 });
      for (let n = 1; n <= 20; n++) await publishId(publisher.url, 'catchup', n);
      expect(client.messages).toHaveLength(1);
      proxy.restore();
      // Nothing new is published: only the catch-up after resubscribing can deliver these.
      await client.waitForMessages(21);
      for (let n = 21; n <= 25; n++) await publishId(publisher.url, 'catchup', n);

      await client.waitForMessages(26);
      expect(client.ids).toEqual(Array.from({ length: 26 }, (_, n) => Number(first) + n));
      expect(client.messages.map((message) => message.data)).toEqual(Array.from({ length: 26 }, (_, n) => String(n)));
      const metrics = await request(hub.url).get('/metrics');
      expect(metrics.text).toMatch(/^ssehub_broker_reconnects_total [1-9]/m);
    } finally {
      await proxy.close();
    }
  });

  it('notices a Redis that stops answering without closing the connection within 5 seconds, then recovers', async () => {
    const proxy = await TcpProxy.start(redis.port);
    try {
      const hub = await startTestServer('redis', { REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
      servers.push(hub);
      await publishId(hub.url, 'partition', 'before');
      proxy.freeze();
      const started = Date.now();
      const refused = await publishJson(hub.url, 'partition', 'during');
      const publishAnsweredMs = Date.now() - started;
      expect(refused.status).toBe(503);
      expect(publishAnsweredMs).toBeLessThan(5000);
      await eventually(async () => (await request(hub.url).get('/readyz')).status === 503, '/readyz 503', { timeoutMs: 5000 - (Date.now() - started) });
      const notReadyAfterMs = Date.now() - started;
      proxy.cut();
      proxy.restore();
      await eventually(async () => (await request(hub.url).get('/readyz')).status === 200, '/readyz 200 again');
      await publishId(hub.url, 'partition', 'after');
      process.stdout.write(`partition: publish answered 503 after ${publishAnsweredMs} ms, /readyz 503 after ${notReadyAfterMs} ms\n`);
    } finally {
      await proxy.close();
    }
  });
});

import Redis from 'ioredis';
import request from 'supertest';
import { publishWithLostMessage as publishLost } from '../helpers/lost-publish';
import { publishId } from '../helpers/publish';
import { SseClient } from '../helpers/sse-client';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { startTestServer, type TestServer } from '../helpers/test-server';

describe('holes in live delivery', () => {
  // A Redis of its own: CLIENT KILL TYPE pubsub below would drop the subscriber connection of
  // every test server sharing a Redis (each subscribes to the server API's control channel).
  let ownRedis: RedisServer;
  let server: TestServer;
  let redis: Redis;
  const clients: SseClient[] = [];

  beforeAll(async () => {
    ownRedis = await startRedisServer();
    server = await startTestServer('redis', { REDIS_URL: ownRedis.url });
    redis = new Redis(ownRedis.url);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    redis.disconnect();
    await server.close();
    await ownRedis.stop();
  });

  function publishWithLostMessage(channel: string, data: unknown): Promise<string> {
    return publishLost(redis, server.config.redisPrefix, channel, data);
  }

  it('fills a pub/sub message that never arrived from history before delivering what follows', async () => {
    const client = await SseClient.open(`${server.url}/channels/holes/stream`);
    clients.push(client);
    const first = await publishId(server, 'holes', 'a');
    await client.waitForMessages(1);
    const lost = await publishWithLostMessage('holes', 'lost');
    const last = await publishId(server, 'holes', 'c');
    await client.waitForMessages(3);
    expect(client.messages.map((message) => [message.id, message.data])).toEqual([
      [first, '"a"'],
      [lost, '"lost"'],
      [last, '"c"'],
    ]);
    const metrics = await request(server.url).get('/metrics');
    expect(metrics.text).toMatch(/^ssehub_gaps_repaired_total [1-9]/m);
  });

  it('gives every client every id once, in order, while its subscriber connection is killed during publishing', async () => {
    const streams = await Promise.all([1, 2, 3].map(() => SseClient.open(`${server.url}/channels/killed/stream`)));
    clients.push(...streams);
    const total = 150;
    const ids: string[] = [];
    const publishing = (async () => {
      for (let n = 0; n < total; n++) ids.push(await publishId(server, 'killed', n));
    })();
    const killing = (async () => {
      for (let round = 0; round < 3; round++) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      }
    })();
    await Promise.all([publishing, killing]);
    for (const stream of streams) {
      await stream.waitForMessages(total, 15_000);
      expect(stream.messages.map((message) => message.id)).toEqual(ids);
    }
  });
});

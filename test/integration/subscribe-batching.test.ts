import pino from 'pino';
import type { EventBroker } from '../../src/broker/broker';
import { createBroker, type Brokers } from '../../src/broker/create-broker';
import { pollUntil, redisCli, spawnRedis, type RedisProcess } from '../ops/redis-topology';
import { testConfig } from '../helpers/test-server';

/** `calls=` of one command in INFO commandstats. */
async function commandCalls(port: number, command: string): Promise<number> {
  const stats = await redisCli(port, 'INFO', 'commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}

describe('subscribing many channels at once (a Redis of its own, to count commands)', () => {
  let redis: RedisProcess;
  let stores: Brokers;
  let broker: EventBroker;
  let prefix: string;

  beforeAll(async () => {
    redis = await spawnRedis([]);
    const config = testConfig('redis', { REDIS_URL: `redis://127.0.0.1:${redis.port}` });
    prefix = config.redisPrefix;
    stores = await createBroker({
      redis: { url: config.redisUrl, keyPrefix: config.redisPrefix },
      historySize: 10,
      logger: pino({ level: 'silent' }),
    });
    broker = stores.events;
  });
  afterAll(async () => {
    await stores?.close();
    await redis?.kill();
  });

  it('sends 2000 subscribes made in one turn as two SUBSCRIBE commands, then delivers on every channel', async () => {
    const channels = Array.from({ length: 2000 }, (_, n) => `user.${n}`);
    const before = await commandCalls(redis.port, 'subscribe');
    await Promise.all(channels.map((channel) => broker.subscribe(channel)));
    expect((await commandCalls(redis.port, 'subscribe')) - before).toBe(2);
    expect(Number((await redisCli(redis.port, 'PUBSUB', 'NUMSUB', `${prefix}live:user.1999`)).split('\n')[1])).toBe(1);

    const received = new Set<string>();
    const all = new Promise<void>((resolve) => {
      broker.onEvent((channel) => {
        received.add(channel);
        if (received.size === channels.length) resolve();
      });
    });
    await Promise.all(channels.map((channel) => broker.publish({ channel, event: 'message', dataJson: '1' })));
    await all;

    const unsubscribesBefore = await commandCalls(redis.port, 'unsubscribe');
    await Promise.all(channels.map((channel) => broker.unsubscribe(channel)));
    await pollUntil(async () => (await redisCli(redis.port, 'PUBSUB', 'CHANNELS')).trim() === '', 'every channel unsubscribed');
    expect((await commandCalls(redis.port, 'unsubscribe')) - unsubscribesBefore).toBe(2);
  });
});


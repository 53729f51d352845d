import { Redis } from 'ioredis';
import request from 'supertest';
import { pollUntil } from '../ops/redis-topology';
import { OpenStreams } from '../helpers/sse-client';
import { BROKERS, startTestServer, testRedisUrl, type BrokerKind } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

async function publish(server: Server, channel: string, data: unknown): Promise<string> {
  const response = await request(server.url).post(`/channels/${channel}/events`).send({ data }).expect(201);
  return (response.body as { id: string }).id;
}

async function historyIds(server: Server, channel: string): Promise<string[]> {
  const response = await request(server.url).get(`/channels/${channel}/events`).expect(200);
  return (response.body as { events: Array<{ id: string }> }).events.map((event) => event.id);
}

describe.each(BROKERS)('history expiry (%s broker)', (broker: BrokerKind) => {
  let server: Server;
  const streams = new OpenStreams();

  beforeAll(async () => {
    server = await startTestServer(broker, { HISTORY_TTL_S: '1' });
  });
  afterEach(() => streams.closeAll());
  afterAll(async () => {
    await server?.close();
  });

  it('forgets a channel HISTORY_TTL_S after its last publish; a resume from before gets hub.gap, and the channel restarts at the time in microseconds', async () => {
    const first = await publish(server, 'one-off', 'a');
    const second = await publish(server, 'one-off', 'b');
    expect(await historyIds(server, 'one-off')).toEqual([first, second]);

    const expiredAt = Date.now();
    await pollUntil(async () => (await historyIds(server, 'one-off')).length === 0, 'the history to expire', 5000, 50);
    // One second after the last publish, not before (the memory broker sweeps every second too).
    expect(Date.now() - expiredAt).toBeGreaterThanOrEqual(800);

    const client = await streams.open(`${server.url}/channels/one-off/stream`, { 'Last-Event-ID': second });
    const startedAtMicros = Date.now() * 1000;
    const third = await publish(server, 'one-off', 'c');
    await client.waitForMessages(2);
    expect(client.messages[0]).toEqual({
      id: undefined,
      event: 'hub.gap',
      data: JSON.stringify({ lastEventId: second, firstAvailableId: null }),
    });
    expect(client.messages[1]).toMatchObject({ id: third, data: '"c"' });
    expect(Number(third)).toBeGreaterThan(Number(second));
    // The counter went with the history: the new id is the time in microseconds, not second + 1.
    expect(Number(third)).toBeGreaterThanOrEqual(startedAtMicros - 5_000_000);
  });

  it('renews the lifetime with each publish, so a channel in use never expires', async () => {
    const ids: string[] = [];
    // Six publishes 300 ms apart span 1.5 s, longer than the TTL of 1 s.
    for (let n = 0; n < 6; n++) {
      ids.push(await publish(server, 'busy', n));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(await historyIds(server, 'busy')).toEqual(ids);
  });
});

describe('history expiry in Redis', () => {
  let redis: Redis;
  const servers: Server[] = [];

  beforeAll(() => {
    redis = new Redis(testRedisUrl());
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    redis.disconnect();
  });

  async function start(env: Record<string, string>): Promise<Server> {
    const server = await startTestServer('redis', env);
    servers.push(server);
    return server;
  }

  it('sets the TTL of the id counter and the history atomically with each publish', async () => {
    const server = await start({ HISTORY_TTL_S: '2' });
    const prefix = server.config.redisPrefix;
    await publish(server, 'ttl', 1);
    const [counterTtl, historyTtl] = await Promise.all([redis.pttl(`${prefix}{ttl}:id`), redis.pttl(`${prefix}{ttl}:history`)]);
    expect(counterTtl).toBeGreaterThan(1000);
    expect(counterTtl).toBeLessThanOrEqual(2000);
    expect(historyTtl).toBeGreaterThan(1000);
    expect(historyTtl).toBeLessThanOrEqual(2000);

    await pollUntil(async () => (await redis.pttl(`${prefix}{ttl}:history`)) < 1500, 'the TTL to run down', 3000, 50);
    await publish(server, 'ttl', 2);
    expect(await redis.pttl(`${prefix}{ttl}:history`)).toBeGreaterThan(1500);
    expect(await redis.pttl(`${prefix}{ttl}:id`)).toBeGreaterThan(1500);

    await pollUntil(async () => (await redis.exists(`${prefix}{ttl}:id`, `${prefix}{ttl}:history`)) === 0, 'both keys to expire', 5000, 50);
  });

  it('renews the TTL once it has run down by 1 % of itself, and shortens at once a longer TTL of an earlier setting', async () => {
    const server = await start({ HISTORY_TTL_S: '100' });
    const prefix = server.config.redisPrefix;
    const keys = [`${prefix}{renew}:id`, `${prefix}{renew}:history`];
    const ttls = (): Promise<number[]> => Promise.all(keys.map((key) => redis.pttl(key)));
    await publish(server, 'renew', 1);
    // As if 0.5 s had passed: less than 1 % of 100 s, so the next publish leaves the TTL alone.
    await Promise.all(keys.map((key) => redis.pexpire(key, 99_500)));
    await publish(server, 'renew', 2);
    for (const ttl of await ttls()) expect(ttl).toBeLessThanOrEqual(99_500);
    // As if 2 s had passed: past 1 %, so the publish renews both keys to the full 100 s.
    await Promise.all(keys.map((key) => redis.pexpire(key, 98_000)));
    await publish(server, 'renew', 3);
    for (const ttl of await ttls()) expect(ttl).toBeGreaterThan(99_000);

    const shorter = await start({ HISTORY_TTL_S: '2', REDIS_PREFIX: prefix });
    await publish(shorter, 'renew', 4);
    for (const ttl of await ttls()) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2000);
    }
    expect(await historyIds(shorter, 'renew')).toHaveLength(4);
  });

  it('keeps the keys forever with HISTORY_TTL_S=0, also keys a previous setting made expire', async () => {
    const expiring = await start({ HISTORY_TTL_S: '60' });
    const prefix = expiring.config.redisPrefix;
    await publish(expiring, 'forever', 1);
    expect(await redis.pttl(`${prefix}{forever}:history`)).toBeGreaterThan(0);

    const never = await start({ HISTORY_TTL_S: '0', REDIS_PREFIX: prefix });
    await publish(never, 'forever', 2);
    expect(await redis.pttl(`${prefix}{forever}:history`)).toBe(-1);
    expect(await redis.pttl(`${prefix}{forever}:id`)).toBe(-1);
  });
});

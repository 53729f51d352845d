import request from 'supertest';
import { SseClient } from '../helpers/sse-client';
import { startTestServer, uniquePrefix } from '../helpers/test-server';
import { pollUntil, redisCli, startSentinelSetup, type SentinelSetup } from './redis-topology';

type Server = Awaited<ReturnType<typeof startTestServer>>;

async function publish(server: Server, channel: string, data: unknown): Promise<number> {
  const response = await request(server.url).post(`/channels/${channel}/events`).send({ data }).expect(201);
  return Number((response.body as { id: string }).id);
}

function replicationOffset(info: string, field: string): number {
  return Number(new RegExp(`${field}:(\\d+)`).exec(info)?.[1] ?? NaN);
}

describe('a hub instance that finds its Redis master through Sentinel', () => {
  let setup: SentinelSetup;
  let hubA: Server;
  let hubB: Server;
  const clients: SseClient[] = [];
  const open = async (server: Server, path: string, headers?: Record<string, string>): Promise<SseClient> => {
    const client = await SseClient.open(server.url + path, headers);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    setup = await startSentinelSetup(1);
    const env = { REDIS_URL: '', REDIS_SENTINELS: setup.sentinelsEnv, REDIS_SENTINEL_NAME: setup.masterName, REDIS_PREFIX: uniquePrefix() };
    [hubA, hubB] = await Promise.all([startTestServer('redis', env), startTestServer('redis', env)]);
  }, 30_000);
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await Promise.all([hubA?.close(), hubB?.close()]);
    await setup?.stop();
  });

  it('connects to the master the sentinel names, publishes and streams on both instances', async () => {
    expect(hubA.broker.description).toBe(`Redis via Sentinel (master ${setup.masterName})`);
    await request(hubA.url).get('/readyz').expect(200);
    const onA = await open(hubA, '/channels/news/stream');
    const onB = await open(hubB, '/channels/news/stream');
    const ids = [await publish(hubA, 'news', 'one'), await publish(hubB, 'news', 'two')];
    expect(ids[1]).toBe(ids[0]! + 1);
    for (const client of [onA, onB]) {
      await client.waitForMessages(2);
      expect(client.ids).toEqual(ids);
    }
    // The event really went to the master the sentinel reports.
    const length = await redisCli(setup.master.port, 'LLEN', `${hubA.config.redisPrefix}{news}:history`);
    expect(length.trim()).toBe('2');
  });

  it('follows a failover: after the master dies, clients keep their streams and receive what is published on the promoted replica', async () => {
    const before = [await publish(hubA, 'failover', 0), await publish(hubA, 'failover', 1)];
    const onA = await open(hubA, '/channels/failover/stream', { 'Last-Event-ID': String(before[0]) });
    const onB = await open(hubB, '/channels/failover/stream');
    await onA.waitForMessages(1);
    // Replication is asynchronous: let the replica hold everything before the master dies.
    await pollUntil(async () => {
      const master = await redisCli(setup.master.port, 'INFO', 'replication');
      const replica = await redisCli(setup.replica.port, 'INFO', 'replication');
      return replicationOffset(replica, 'slave_repl_offset') >= replicationOffset(master, 'master_repl_offset');
    }, 'the replica to catch up');

    await setup.master.kill();
    await pollUntil(async () => (await setup.masterPort()) === setup.replica.port, 'the sentinel to promote the replica', 15_000);

    // Publishes answer 503 until the hub reaches the new master; then ids go on from the replicated counter.
    let after = 0;
    await pollUntil(
      async () => {
        const response = await request(hubB.url).post('/channels/failover/events').send({ data: 2 });
        if (response.status === 201) after = Number((response.body as { id: string }).id);
        else expect(response.status).toBe(503);
        return response.status === 201;
      },
      'a publish to succeed after the failover',
      15_000,
      200,
    );
    expect(after).toBe(before[1]! + 1);
    await request(hubA.url).get('/readyz').expect(200);
    await onA.waitForMessages(2);
    await onB.waitForMessages(1);
    expect(onA.ended).toBe(false);
    expect(onB.ended).toBe(false);
    expect(onA.ids).toEqual([before[1], after]);
    expect(onB.ids).toEqual([after]);
  }, 40_000);
});

import request from 'supertest';
import { OpenStreams, type SseClient } from '../helpers/sse-client';
import { publishId, publishJson } from '../helpers/publish';
import { startTestServer, uniquePrefix, type TestServer } from '../helpers/test-server';
import { pollUntil, redisCli, startSentinelSetup, type RedisProcess, type SentinelSetup } from './redis-topology';

function replicationOffset(info: string, field: string): number {
  return Number(new RegExp(`${field}:(\\d+)`).exec(info)?.[1] ?? NaN);
}

describe('hub instances that find their Redis master through Sentinel', () => {
  let setup: SentinelSetup;
  let hubA: TestServer;
  let hubB: TestServer;
  const streams = new OpenStreams();
  const open = (server: TestServer, path: string, headers?: Record<string, string>): Promise<SseClient> => streams.open(server.url + path, headers);

  beforeAll(async () => {
    setup = await startSentinelSetup();
    const env = { REDIS_URL: '', REDIS_SENTINELS: setup.sentinelsEnv, REDIS_SENTINEL_NAME: setup.masterName, REDIS_PREFIX: uniquePrefix() };
    [hubA, hubB] = await Promise.all([startTestServer('redis', env), startTestServer('redis', env)]);
  }, 30_000);
  afterEach(() => {
    streams.closeAll();
  });
  afterAll(async () => {
    await Promise.all([hubA?.close(), hubB?.close()]);
    await setup?.stop();
  });

  const historyKey = (channel: string): string => `${hubA.config.redisPrefix}{${channel}}:history`;

  /** Waits until every replica holds everything the master has (replication is asynchronous). */
  async function replicasInSync(): Promise<{ master: RedisProcess; replicas: RedisProcess[] }> {
    let roles: { master: RedisProcess; replicas: RedisProcess[] } | undefined;
    await pollUntil(async () => {
      const current = await setup.roles();
      if (current.replicas.length !== setup.servers.length - 1) return false;
      const masterOffset = replicationOffset(await redisCli(current.master.port, 'INFO', 'replication'), 'master_repl_offset');
      for (const replica of current.replicas) {
        const offset = replicationOffset(await redisCli(replica.port, 'INFO', 'replication'), 'slave_repl_offset');
        if (!(offset >= masterOffset)) return false;
      }
      roles = current;
      return true;
    }, 'the replicas to be in sync with the master');
    return roles!;
  }

  /** Publishes on hub B until it succeeds (503 while the hub has no master) and returns the id. */
  async function publishWhenBack(channel: string, data: unknown): Promise<number> {
    let id = 0;
    await pollUntil(
      async () => {
        const response = await publishJson(hubB, channel, data);
        if (response.status === 201) id = Number(response.body.id);
        else expect(response.status).toBe(503);
        return response.status === 201;
      },
      'a publish to succeed after the failover',
      15_000,
      100,
    );
    return id;
  }

  /** Waits until the sentinel names one of `candidates` as the master and it takes writes. */
  async function promotedAmong(candidates: RedisProcess[]): Promise<RedisProcess> {
    let promoted: RedisProcess | undefined;
    await pollUntil(async () => {
      const { master } = await setup.roles();
      promoted = candidates.includes(master) ? master : undefined;
      return promoted !== undefined && /role:master/.test(await redisCli(master.port, 'INFO', 'replication'));
    }, 'the sentinel to promote a replica', 15_000);
    return promoted!;
  }

  it('connects to the master the sentinel names, publishes and streams on both instances', async () => {
    expect(hubA.broker.description).toBe(`Redis via Sentinel (master ${setup.masterName})`);
    await request(hubA.url).get('/readyz').expect(200);
    const onA = await open(hubA, '/channels/news/stream');
    const onB = await open(hubB, '/channels/news/stream');
    const ids = [Number(await publishId(hubA, 'news', 'one')), Number(await publishId(hubB, 'news', 'two'))];
    expect(ids[1]).toBe(ids[0]! + 1);
    for (const client of [onA, onB]) {
      await client.waitForMessages(2);
      expect(client.ids).toEqual(ids);
    }
    const { master } = await setup.roles();
    expect((await redisCli(master.port, 'LLEN', historyKey('news'))).trim()).toBe('2');
  });

  it('follows a failover after the master dies: open streams stay open and receive what is published on the promoted replica', async () => {
    const before = [Number(await publishId(hubA, 'failover', 0)), Number(await publishId(hubA, 'failover', 1))];
    const onA = await open(hubA, '/channels/failover/stream', { 'Last-Event-ID': String(before[0]) });
    const onB = await open(hubB, '/channels/failover/stream');
    await onA.waitForMessages(1);
    const { master, replicas } = await replicasInSync();

    await master.kill();
    await promotedAmong(replicas);

    // Publishes answer 503 until the hub reaches the new master; then ids go on from the replicated counter.
    const after = await publishWhenBack('failover', 2);
    expect(after).toBe(before[1]! + 1);
    // Hub A reconnects on its own schedule: hub B taking a publish does not mean A is back yet.
    await pollUntil(async () => (await request(hubA.url).get('/readyz')).status === 200, 'hub A to be ready again', 15_000, 100);
    await onA.waitForMessages(2);
    await onB.waitForMessages(1);
    expect(onA.ended).toBe(false);
    expect(onB.ended).toBe(false);
    expect(onA.ids).toEqual([before[1], after]);
    expect(onB.ids).toEqual([after]);
  }, 40_000);
});

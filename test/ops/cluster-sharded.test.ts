import pino from 'pino';
import { createBroker } from '../../src/broker/create-broker';
import { redisTargetOf } from '../../src/broker/redis/target';
import { OpenStreams, type SseClient } from '../helpers/sse-client';
import { startTestServer, testConfig, uniquePrefix, type TestServer } from '../helpers/test-server';
import { pollUntil, redisCli, startRedisCluster, type RedisCluster } from './redis-topology';
import { eventually } from '../helpers/eventually';
import { publishJson } from '../helpers/publish';

interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly master: boolean;
  /** For a replica, the id of its master. */
  readonly masterId: string | null;
  readonly failed: boolean;
  readonly slots: ReadonlyArray<readonly [number, number]>;
}

/** `CLUSTER NODES` as seen from `port`. */
async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const text = await redisCli(port, 'CLUSTER', 'NODES');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', masterId = '-', , , , , ...slotFields] = line.split(' ');
      const slots = slotFields
        .filter((field) => /^\d+(-\d+)?$/.test(field))
        .map((field) => {
          const [from, to = from] = field.split('-').map(Number);
          return [from!, to!] as const;
        });
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1]),
        master: flags.includes('master'),
        masterId: masterId === '-' ? null : masterId,
        failed: flags.includes('fail'),
        slots,
      };
    });
}

function owns(node: ClusterNode, slot: number): boolean {
  return node.slots.some(([from, to]) => slot >= from && slot <= to);
}

/** Numbers of `CLUSTER INFO` / `INFO` lines, by name. */
async function infoNumbers(port: number, ...section: string[]): Promise<Map<string, number>> {
  const text = await redisCli(port, ...(section.length > 0 ? section : ['CLUSTER', 'INFO']));
  const numbers = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^([a-z_]+):(\d+)$/.exec(line.trim());
    if (match) numbers.set(match[1]!, Number(match[2]));
  }
  return numbers;
}

/** Pub/sub messages a node received over the cluster bus (classic and shard). */
async function busPublishesReceived(port: number): Promise<number> {
  const info = await infoNumbers(port);
  return (info.get('cluster_stats_messages_publish_received') ?? 0) + (info.get('cluster_stats_messages_publishshard_received') ?? 0);
}

/** Publishes with an Idempotency-Key, retrying 503s and dropped connections until accepted. */
async function publishReliably(server: TestServer, channel: string, key: string, data: unknown, timeoutMs = 30_000): Promise<number> {
  // A 503 or a dropped connection (fetch rejects) is "not yet"; any other answer ends the wait.
  const answer = await eventually(
    async () => {
      const published = await publishJson(server, channel, data, { idempotencyKey: key });
      return published.status !== 503 && published;
    },
    `a publish of ${key} to be accepted`,
    { timeoutMs, intervalMs: 50 },
  );
  if (answer.status !== 201 && answer.status !== 200) throw new Error(`publish answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return Number(answer.body.id);
}

describe('sharded pub/sub on a Redis Cluster of three masters with a replica each', () => {
  let cluster: RedisCluster;
  let hubA: TestServer;
  let hubB: TestServer;
  const prefix = uniquePrefix();
  const streams = new OpenStreams();
  const liveName = (channel: string): string => `${prefix}{${channel}}:live`;

  beforeAll(async () => {
    cluster = await startRedisCluster(1);
    const env = { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_PREFIX: prefix };
    [hubA, hubB] = await Promise.all([startTestServer('redis', env), startTestServer('redis', env)]);
  }, 60_000);
  afterEach(() => {
    streams.closeAll();
  });
  afterAll(async () => {
    await Promise.all([hubA?.close(), hubB?.close()]);
    await cluster?.stop();
  });

  async function liveNodes(): Promise<ClusterNode[]> {
    const alive = cluster.nodes.find((node) => node.child.exitCode === null && node.child.signalCode === null)!;
    return (await clusterNodes(alive.port)).filter((node) => !node.failed);
  }

  /** The master owning the channel's slot, its replicas, and the nodes of the other shards. */
  async function shardOf(channel: string): Promise<{ slot: number; master: ClusterNode; replicas: ClusterNode[]; others: ClusterNode[] }> {
    const slot = await cluster.keySlot(liveName(channel));
    expect(await cluster.keySlot(`${prefix}{${channel}}:history`)).toBe(slot);
    const nodes = await liveNodes();
    const master = nodes.find((node) => node.master && owns(node, slot))!;
    const replicas = nodes.filter((node) => node.masterId === master.id);
    const others = nodes.filter((node) => node !== master && !replicas.includes(node));
    return { slot, master, replicas, others };
  }

  /** Opens a stream on each instance, and proves both are subscribed by a round trip. */
  async function followOnBoth(channel: string): Promise<SseClient[]> {
    const clients = [await streams.open(`${hubA.url}/channels/${channel}/stream`), await streams.open(`${hubB.url}/channels/${channel}/stream`)];
    return clients;
  }

  function expectEachOnceInOrder(client: SseClient, ids: number[]): void {
    expect(client.messages.map((message) => message.event)).not.toContain('hub.gap');
    expect(client.ids).toEqual(ids);
  }

  it('subscribes each channel only on the master that owns its slot, from both instances', async () => {
    const channel = 'routed';
    await followOnBoth(channel);
    const { master, replicas, others } = await shardOf(channel);
    const counts = async (port: number): Promise<number> => Number((await redisCli(port, 'PUBSUB', 'SHARDNUMSUB', liveName(channel))).split('\n')[1]);
    expect(await counts(master.port)).toBe(2);
    for (const node of [...replicas, ...others]) expect(await counts(node.port)).toBe(0);
    // No classic subscription anywhere: nothing of ours listens to the cluster-wide bus.
    for (const node of await liveNodes()) {
      expect((await redisCli(node.port, 'PUBSUB', 'CHANNELS', `${prefix}*`)).trim()).toBe('');
    }
  });

  it('keeps each event within its shard: nodes of other shards receive no bus message for it (classic PUBLISH reaches every node)', async () => {
    const channel = 'traffic';
    const clients = await followOnBoth(channel);
    const { master, replicas, others } = await shardOf(channel);
    const count = 200;

    // Before: the classic PUBLISH the broker used on a Cluster until now, measured the same way.
    const config = testConfig('redis', { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_PREFIX: prefix });
    const classicStores = await createBroker({
      redis: { ...redisTargetOf(config)!, pubsub: 'classic' },
      historySize: 100,
      logger: pino({ level: 'silent' }),
    });
    const classic = classicStores.events;
    const measure = async (publish: () => Promise<void>): Promise<Map<number, number>> => {
      const nodes = await liveNodes();
      const before = new Map(await Promise.all(nodes.map(async (node) => [node.port, await busPublishesReceived(node.port)] as const)));
      await publish();
      // Bus messages travel asynchronously: wait until the shard's replica has seen them all.
      const replica = replicas[0]!;
      await pollUntil(async () => (await busPublishesReceived(replica.port)) - before.get(replica.port)! >= count, 'the replica to see every message', 10_000, 50);
      return new Map(await Promise.all(nodes.map(async (node) => [node.port, (await busPublishesReceived(node.port)) - before.get(node.port)!] as const)));
    };
    const classicDeltas = await measure(async () => {
      for (let n = 0; n < count; n++) await classic.publish({ channel: `${channel}-classic`, event: 'message', dataJson: String(n) });
    });
    await classicStores.close();
    const published: number[] = [];
    const shardedDeltas = await measure(async () => {
      for (let n = 0; n < count; n++) published.push(await publishReliably(n % 2 === 0 ? hubA : hubB, channel, `traffic-${n}`, n));
    });
    for (const client of clients) {
      await client.waitForMessages(count);
      expectEachOnceInOrder(client, published);
    }

    for (const node of others) expect(shardedDeltas.get(node.port)).toBe(0);
    for (const node of replicas) expect(shardedDeltas.get(node.port)).toBe(count);
    expect(shardedDeltas.get(master.port)).toBe(0);
    // The classic-channel master is another shard's in general; every node but the publishing
    // master received each message.
    const classicTotal = [...classicDeltas.values()].reduce((sum, value) => sum + value, 0);
    const shardedTotal = [...shardedDeltas.values()].reduce((sum, value) => sum + value, 0);
    expect(classicTotal).toBe(count * 5);
    expect(shardedTotal).toBe(count * replicas.length);
    const table = [...classicDeltas.keys()]
      .map((port) => `${port}${port === master.port ? ' (owner)' : replicas.some((node) => node.port === port) ? ' (owner replica)' : ''}: classic ${classicDeltas.get(port)}, sharded ${shardedDeltas.get(port)}`)
      .join('; ');
    process.stdout.write(`cluster bus pub/sub messages received per node for ${count} publishes: ${table}; total classic ${classicTotal}, sharded ${shardedTotal}\n`);
  }, 60_000);

  it('delivers every id once, in order, on both instances while the channel slot migrates to another master during publishing', async () => {
    const channel = 'migrating';
    const clients = await followOnBoth(channel);
    const { slot, master: source } = await shardOf(channel);
    const target = (await liveNodes()).find((node) => node.master && node.id !== source.id)!;

    const published: number[] = [];
    let stop = false;
    let migrated = false;
    let afterMigration = 0;
    const publishing = (async () => {
      for (let n = 0; !stop; n++) {
        published.push(await publishReliably(n % 2 === 0 ? hubA : hubB, channel, `migrating-${n}`, n));
        if (migrated && ++afterMigration >= 30) stop = true;
      }
    })();
    await pollUntil(() => Promise.resolve(published.length >= 20), '20 publishes before the migration', 10_000, 10);

    // Each step must answer OK (redis-cli prints an error reply rather than failing); a node that
    // has not yet heard of the other over the cluster bus refuses at first.
    const setSlot = async (port: number, ...args: string[]): Promise<void> => {
      let answer = '';
      await pollUntil(
        async () => (answer = (await redisCli(port, 'CLUSTER', 'SETSLOT', String(slot), ...args)).trim()) === 'OK',
        `SETSLOT ${args.join(' ')} on ${port}`,
        5000,
        50,
      ).catch((error: Error) => {
        throw new Error(`${error.message}: ${answer}`);
      });
    };
    await setSlot(target.port, 'IMPORTING', source.id);
    await setSlot(source.port, 'MIGRATING', target.id);
    for (let round = 0; ; round++) {
      const keys = (await redisCli(source.port, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '100')).split('\n').filter((key) => key !== '');
      if (keys.length === 0) break;
      const answer = (await redisCli(source.port, 'MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', ...keys)).trim();
      if (round > 20 || (answer !== 'OK' && answer !== 'NOKEY')) throw new Error(`MIGRATE of ${keys.join(' ')} answered ${answer} (round ${round})`);
    }
    const publishedBeforeHandover = published.length;
    // The target first, then the source; the other nodes learn it over the cluster bus.
    await setSlot(target.port, 'NODE', target.id);
    await setSlot(source.port, 'NODE', target.id);
    migrated = true;
    await publishing;

    expect(published.length).toBeGreaterThan(publishedBeforeHandover);
    expect(published.slice(1).every((id, index) => id === published[index]! + 1)).toBe(true);
    for (const client of clients) {
      await client.waitFor((c) => c.ids.length >= published.length, 15_000, `all ${published.length} ids`);
      expectEachOnceInOrder(client, published);
    }
    // The subscriptions followed the slot: both instances now listen on the new owner only.
    await pollUntil(
      async () => Number((await redisCli(target.port, 'PUBSUB', 'SHARDNUMSUB', liveName(channel))).split('\n')[1]) === 2,
      'both instances to subscribe on the new owner',
    );
    expect(Number((await redisCli(source.port, 'PUBSUB', 'SHARDNUMSUB', liveName(channel))).split('\n')[1])).toBe(0);
  }, 60_000);

  // Last: it kills a master for good.
  it('delivers every id once, in order, on both instances when the owning master is killed and its replica promoted', async () => {
    const channel = 'failover';
    const clients = await followOnBoth(channel);
    const { master, replicas } = await shardOf(channel);
    const replica = replicas[0]!;

    const published: number[] = [];
    for (let n = 0; n < 10; n++) published.push(await publishReliably(n % 2 === 0 ? hubA : hubB, channel, `failover-${n}`, n));
    for (const client of clients) await client.waitForMessages(10);
    // Replication is asynchronous: kill the master only once its replica has every acknowledged write.
    await pollUntil(async () => {
      const info = await redisCli(master.port, 'INFO', 'replication');
      const offset = /master_repl_offset:(\d+)/.exec(info)?.[1];
      return offset !== undefined && new RegExp(`slave0:.*offset=${offset},`).test(info);
    }, 'the replica to catch up');

    const killedAt = Date.now();
    await cluster.nodes.find((node) => node.port === master.port)!.kill();
    for (let n = 10; n < 30; n++) published.push(await publishReliably(n % 2 === 0 ? hubA : hubB, channel, `failover-${n}`, n));
    const publishingAgainMs = Date.now() - killedAt;

    expect((await redisCli(replica.port, 'ROLE')).split('\n')[0]).toBe('master');
    expect(published.slice(1).every((id, index) => id === published[index]! + 1)).toBe(true);
    for (const client of clients) {
      await client.waitFor((c) => c.ids.length >= published.length, 15_000, `all ${published.length} ids`);
      expectEachOnceInOrder(client, published);
      expect(client.ended).toBe(false);
    }
    await pollUntil(
      async () => Number((await redisCli(replica.port, 'PUBSUB', 'SHARDNUMSUB', liveName(channel))).split('\n')[1]) === 2,
      'both instances to subscribe on the promoted replica',
    );
    process.stdout.write(`cluster failover: publishes accepted again ${publishingAgainMs} ms after the master was killed\n`);
  }, 60_000);
});

import { Writable } from 'node:stream';
import { Cluster } from 'ioredis';
import pino from 'pino';
import request from 'supertest';
import { keySlot } from '../../src/broker/redis/key-slot';
import { startServer, type RunningServer } from '../../src/server';
import { OpenStreams } from '../helpers/sse-client';
import { testConfig, uniquePrefix } from '../helpers/test-server';
import { pollUntil, redisCli, startRedisCluster, type RedisCluster } from './redis-topology';

/** How long the shard's node stops serving clients: long against the 2 s ping deadline, short against a failover (none: no replicas). */
const PAUSE_MS = 6000;

describe('a silent shard on a Cluster (sharded pub/sub)', () => {
  let cluster: RedisCluster;
  let hub: RunningServer;
  const logLines: string[] = [];
  const streams = new OpenStreams();
  const prefix = uniquePrefix();

  beforeAll(async () => {
    cluster = await startRedisCluster(0);
    const config = testConfig('redis', { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_PREFIX: prefix, LOG_LEVEL: 'warn' });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    hub = await startServer(config, pino({ level: 'warn' }, sink));
  }, 60_000);
  afterAll(async () => {
    streams.closeAll();
    await hub?.close();
    await cluster?.stop();
  });

  it("is noticed by pinging that shard's subscriber connection: /readyz answers 503, then 200 and live delivery once the shard answers again", async () => {
    const channel = 'watched';
    const client = await streams.open(`${hub.url}/channels/${channel}/stream`);
    // The master that owns the channel's slot carries its shard subscriber connection.
    const probe = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    let owner: number;
    try {
      await probe.ping();
      owner = Number(probe.slots[keySlot(channel)]?.[0]?.split(':')[1]);
    } finally {
      probe.disconnect();
    }
    await pollUntil(async () => (await redisCli(owner, 'PUBSUB', 'SHARDNUMSUB', `${prefix}{${channel}}:live`)).includes('\n1'), 'the shard subscription');

    const pausedAt = Date.now();
    await redisCli(owner, 'CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
    await pollUntil(async () => (await request(hub.url).get('/readyz')).status === 503, '/readyz 503', PAUSE_MS, 50);
    const downAfterMs = Date.now() - pausedAt;
    expect(downAfterMs).toBeLessThan(PAUSE_MS);
    expect(logLines.join('')).toMatch(new RegExp(`"connection":"shard subscriber 127\\.0\\.0\\.1:${owner}"`));

    await pollUntil(async () => (await request(hub.url).get('/readyz')).status === 200, '/readyz 200 again', 20_000, 50);
    // The renewed shard subscription is on the node again (a subscription lost for good fails here).
    await pollUntil(async () => (await redisCli(owner, 'PUBSUB', 'SHARDNUMSUB', `${prefix}{${channel}}:live`)).includes('\n1'), 'the shard subscription again', 10_000);
    // The command connection to the paused node may still be coming back when the subscriber
    // already answers: a publish meanwhile is 503 (retry later), as the contract says, never lost.
    let publishedId: string | undefined;
    await pollUntil(
      async () => {
        const response = await request(hub.url).post(`/channels/${channel}/events`).send({ data: 'after' });
        expect([201, 503]).toContain(response.status);
        if (response.status === 201) publishedId = (response.body as { id: string }).id;
        return response.status === 201;
      },
      'a publish to be stored again',
      10_000,
      100,
    );
    await client.waitFor((c) => c.messages.some((message) => message.id === publishedId), 10_000, 'the event after the pause');
    process.stdout.write(`silent shard: /readyz 503 after ${downAfterMs} ms of a ${PAUSE_MS} ms pause\n`);
  }, 60_000);
});

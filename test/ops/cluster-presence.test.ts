import { makeKey, signToken } from '../helpers/access-tokens';
import { memberList, signals, waitForPresence } from '../helpers/presence';
import { OpenStreams } from '../helpers/sse-client';
import { startTestServer, uniquePrefix, type TestServer } from '../helpers/test-server';
import { startRedisCluster, type RedisCluster } from './redis-topology';

describe('presence on a Redis Cluster (sharded pub/sub)', () => {
  const key = makeKey('HS256');
  let cluster: RedisCluster;
  let hubA: TestServer;
  let hubB: TestServer;
  const streams = new OpenStreams();

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const env = { ...key.env, REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_PREFIX: uniquePrefix(), PRESENCE_CHANNELS: 'room.*' };
    [hubA, hubB] = await Promise.all([startTestServer('redis', env), startTestServer('redis', env)]);
  }, 60_000);
  afterAll(async () => {
    streams.closeAll();
    await Promise.all([hubA?.close(), hubB?.close()]);
    await cluster?.stop();
  });

  it('counts both instances and sends joins and leaves through each channel’s own shard', async () => {
    const channels = ['room.a', 'room.b', 'room.c', 'room.d'];
    // The channels' keys live on different masters, so each script and its SPUBLISH run on its own shard.
    const slots = await Promise.all(channels.map((channel) => cluster.keySlot(`{${channel}}`)));
    expect(new Set(slots).size).toBeGreaterThan(1);
    const observers = await Promise.all(channels.map((channel) => streams.open(`${hubA.url}/channels/${channel}/stream`)));
    const gus = { Authorization: `Bearer ${await signToken(key, { info: { name: 'Gus' } }, { sub: 'gus' })}` };
    const gusStreams = await Promise.all(channels.map((channel) => streams.open(`${hubB.url}/channels/${channel}/stream`, gus)));
    for (const [index, channel] of channels.entries()) {
      await observers[index]!.waitFor((client) => signals(client).includes('join gus'), 10_000, `join on ${channel}`);
      const body = await waitForPresence(hubA.url, (presence) => presence.connections === 2, channel);
      expect(memberList(body)).toEqual(['gus×1']);
      expect(body.members[0]?.info).toEqual({ name: 'Gus' });
    }
    for (const stream of gusStreams) stream.close();
    for (const [index, channel] of channels.entries()) {
      await observers[index]!.waitFor((client) => signals(client).includes('leave gus'), 10_000, `leave on ${channel}`);
      expect(signals(observers[index]!)).toEqual(['join gus', 'leave gus']);
    }
  });
});

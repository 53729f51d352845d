import request from 'supertest';
import { OpenStreams, type SseClient } from '../helpers/sse-client';
import { publishId } from '../helpers/publish';
import { startTestServer, uniquePrefix, type TestServer } from '../helpers/test-server';
import { pollUntil, redisCli, startRedisCluster, type RedisCluster } from './redis-topology';

// Three masters split the slots evenly as `redis-cli --cluster create` assigns them.
function masterOfSlot(slot: number): number {
  if (slot <= 5460) return 0;
  return slot <= 10922 ? 1 : 2;
}

describe('two hub instances on a three-master Redis Cluster', () => {
  let cluster: RedisCluster;
  let hubA: TestServer;
  let hubB: TestServer;
  const prefix = uniquePrefix();
  const streams = new OpenStreams();
  const open = (server: TestServer, path: string, headers?: Record<string, string>): Promise<SseClient> => streams.open(server.url + path, headers);

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const env = { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_PREFIX: prefix };
    [hubA, hubB] = await Promise.all([startTestServer('redis', env), startTestServer('redis', env)]);
  }, 45_000);
  afterEach(() => {
    streams.closeAll();
  });
  afterAll(async () => {
    await Promise.all([hubA?.close(), hubB?.close()]);
    await cluster?.stop();
  });

  /** One channel per master: keys `<prefix>{channel}:…` hash by the tag, so the slot is the channel's. */
  async function channelsOnEveryMaster(): Promise<string[]> {
    const chosen = new Map<number, string>();
    for (let n = 0; chosen.size < 3 && n < 100; n++) {
      const channel = `room-${n}`;
      const slot = await cluster.keySlot(`${prefix}{${channel}}:history`);
      expect(await cluster.keySlot(`${prefix}{${channel}}:id`)).toBe(slot);
      if (!chosen.has(masterOfSlot(slot))) chosen.set(masterOfSlot(slot), channel);
    }
    expect(chosen.size).toBe(3);
    return [...chosen.values()];
  }

  it('uses Cluster as the broker and is ready', async () => {
    expect(hubA.broker.description).toMatch(/^Redis Cluster \(/);
    await request(hubA.url).get('/readyz').expect(200);
    await request(hubB.url).get('/readyz').expect(200);
  });

  it('delivers events published on either instance, on channels on every master, to clients on both, with the same consecutive ids', async () => {
    const channels = await channelsOnEveryMaster();
    const perChannel = 4;
    const streams = new Map<string, SseClient[]>();
    for (const channel of channels) {
      streams.set(channel, [await open(hubA, `/channels/${channel}/stream`), await open(hubB, `/channels/${channel}/stream`)]);
    }
    const published = new Map<string, number[]>(channels.map((channel) => [channel, []]));
    for (let n = 0; n < perChannel; n++) {
      for (const channel of channels) published.get(channel)!.push(Number(await publishId(n % 2 === 0 ? hubA : hubB, channel, { n, channel })));
    }
    for (const channel of channels) {
      const ids = published.get(channel)!;
      expect(ids.slice(1).map((id, index) => id - ids[index]!)).toEqual([1, 1, 1]);
      for (const client of streams.get(channel)!) {
        await client.waitForMessages(perChannel);
        expect(client.ids).toEqual(ids);
        expect(client.messages.map((message) => JSON.parse(message.data) as unknown)).toEqual(
          [0, 1, 2, 3].map((n) => ({ n, channel })),
        );
      }
    }
    // The channels' keys really are spread over the three masters: each holds some of them.
    for (const port of cluster.ports) {
      expect((await redisCli(port, 'KEYS', `${prefix}*`)).trim()).not.toBe('');
    }
  });

  it('replays after Last-Event-ID on the other instance, then continues live', async () => {
    const [channel = 'replay'] = await channelsOnEveryMaster();
    const ids: number[] = [];
    for (let n = 0; n < 4; n++) ids.push(Number(await publishId(hubA, `${channel}-replay`, n)));
    const client = await open(hubB, `/channels/${channel}-replay/stream`, { 'Last-Event-ID': String(ids[0]) });
    await client.waitForMessages(3);
    ids.push(Number(await publishId(hubA, `${channel}-replay`, 4)));
    await client.waitForMessages(4);
    expect(client.ids).toEqual(ids.slice(1));
    const history = await request(hubB.url).get(`/channels/${channel}-replay/events?after=${ids[1]}`).expect(200);
    expect((history.body as { events: Array<{ id: string }> }).events.map((event) => Number(event.id))).toEqual(ids.slice(2));
  });

  it('holds exactly one sharded pub/sub connection per instance on each master that owns a subscribed channel', async () => {
    const channels = await channelsOnEveryMaster();
    for (const channel of channels) {
      await open(hubA, `/channels/${channel}/stream`);
      await open(hubB, `/channels/${channel}/stream`);
    }
    // A publish round trip proves both instances subscribed before counting.
    const probe = await open(hubA, `/channels/${channels[0]}/stream`);
    await publishId(hubB, channels[0]!, 'probe');
    await probe.waitForMessages(1);
    const perNode = await Promise.all(
      cluster.ports.map(async (port) =>
        (await redisCli(port, 'CLIENT', 'LIST')).split('\n').filter((line) => /\bflags=P\b/.test(line) || /\b(s|p)?sub=[1-9]/.test(line)),
      ),
    );
    // Each master holds one pub/sub connection per instance, sharded only (no classic SUBSCRIBE).
    for (const lines of perNode) {
      expect(lines).toHaveLength(2);
      for (const line of lines) {
        expect(line).toMatch(/name=\S*ssehub-subscriber\b/);
        expect(line).toMatch(/ sub=0 psub=0 ssub=[1-9]/);
      }
    }
  });

  // Last: it takes the whole cluster down.
  it('reports the outage of the whole cluster on /readyz within 5 s, keeps streams open, and serves again when it returns', async () => {
    const client = await open(hubA, '/channels/outage/stream');
    const first = Number(await publishId(hubB, 'outage', 'before'));
    await client.waitForMessages(1);

    await Promise.all(cluster.nodes.map((node) => node.kill()));
    const downAt = Date.now();
    await pollUntil(async () => (await request(hubA.url).get('/readyz')).status === 503, '/readyz 503 on A', 5000, 50);
    await pollUntil(async () => (await request(hubB.url).get('/readyz')).status === 503, '/readyz 503 on B', 5000, 50);
    expect(Date.now() - downAt).toBeLessThan(5000);
    await request(hubB.url).post('/channels/outage/events').send({ data: 'during' }).expect(503);
    expect(client.ended).toBe(false);

    // Same ports and nodes-<port>.conf: the cluster re-forms (its data is gone: no persistence here).
    await Promise.all(cluster.nodes.map((node) => node.restart()));
    await cluster.waitUntilOk();
    await pollUntil(async () => (await request(hubA.url).get('/readyz')).status === 200, '/readyz 200 on A', 15_000);
    await pollUntil(async () => (await request(hubB.url).get('/readyz')).status === 200, '/readyz 200 on B', 15_000);
    const after = Number(await publishId(hubB, 'outage', 'after'));
    expect(after).toBeGreaterThan(first);
    // The history was lost with the cluster, so the client hears of the hole, then gets the event.
    await client.waitFor((c) => c.ids.includes(after), 10_000, 'the event published after the outage');
    expect(client.messages.map((message) => message.event)).toEqual(['message', 'hub.gap', 'message']);
    expect(client.ended).toBe(false);
  }, 45_000);
});

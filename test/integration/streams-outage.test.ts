import type { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import Redis from 'ioredis';
import { followCursor, formatCursor, historyIds, publishEvent, streamsPath } from '../helpers/multi-stream';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { publishWithLostMessage as publishLost } from '../helpers/lost-publish';
import { SseClient, type SseMessage } from '../helpers/sse-client';
import { TcpProxy } from '../helpers/tcp-proxy';
import { BROKERS, startTestServer, testRedisUrl, uniquePrefix, type TestServer } from '../helpers/test-server';
import { eventually } from '../helpers/eventually';

async function readyStatus(url: string): Promise<number> {
  return (await fetch(`${url}/readyz`)).status;
}

/** Listeners on the broker's own events (both brokers are EventEmitters). */
function brokerListeners(server: TestServer): Record<string, number> {
  const emitter = server.broker as unknown as EventEmitter;
  return Object.fromEntries(['resubscribed', 'down'].map((name) => [name, emitter.listenerCount(name)]));
}

/** The events of a multi-channel stream, without its `hub.gap` notices. */
function eventsOnly(messages: readonly SseMessage[]): SseMessage[] {
  return messages.filter((message) => message.event !== 'hub.gap');
}

/** Counts the events of `channels` a client received (by the envelope's channel). */
function countOf(client: SseClient, channel: string): number {
  return eventsOnly(client.messages).filter((message) => (JSON.parse(message.data) as { channel: string }).channel === channel).length;
}

describe('multi-channel streams through a Redis outage', () => {
  let redis: RedisServer;
  let proxy: TcpProxy;
  let servers: TestServer[] = [];
  let clients: SseClient[] = [];

  beforeEach(async () => {
    redis = await startRedisServer();
    proxy = await TcpProxy.start(redis.port);
  });
  afterEach(async () => {
    for (const client of clients) client.close();
    // The proxy first: resetting a connection the hub has just half-closed leaks its handle
    // (Node 20), which keeps a single-file jest run from exiting.
    await proxy.close();
    await Promise.all(servers.map((server) => server.close()));
    await redis.stop();
    servers = [];
    clients = [];
  });

  it('delivers what another instance published on every channel while this one was cut off from Redis, once and in order, with exact cursors', async () => {
    const prefix = uniquePrefix();
    const hub = await startTestServer('redis', { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_PREFIX: prefix });
    const publisher = await startTestServer('redis', { REDIS_URL: redis.url, REDIS_PREFIX: prefix });
    servers.push(hub, publisher);
    const channels = ['out.a', 'out.b', 'out.c'];
    const subsets = [['out.a', 'out.b'], ['out.c', 'out.b'], channels];
    for (const subset of subsets) clients.push(await SseClient.open(`${hub.url}${streamsPath(subset)}`));
    const publishAll = async (round: string): Promise<void> => {
      for (const channel of channels) await publishEvent(publisher.url, channel, round);
    };
    const expected = (subset: readonly string[], perChannel: number): number => subset.length * perChannel;

    await publishAll('before');
    await Promise.all(clients.map((client, index) => client.waitForMessages(expected(subsets[index]!, 1))));

    proxy.cut();
    await eventually(async () => (await readyStatus(hub.url)) === 503, 'the cut-off hub to notice');
    for (let n = 0; n < 10; n++) await publishAll(`during ${n}`);
    clients.forEach((client, index) => expect(client.messages).toHaveLength(expected(subsets[index]!, 1)));
    proxy.restore();
    // Nothing new is published: only the catch-up after resubscribing can deliver these.
    await Promise.all(clients.map((client, index) => client.waitForMessages(expected(subsets[index]!, 11))));
    for (let n = 0; n < 3; n++) await publishAll(`after ${n}`);
    await Promise.all(clients.map((client, index) => client.waitForMessages(expected(subsets[index]!, 14))));

    const histories = new Map<string, number[]>();
    for (const channel of channels) histories.set(channel, await historyIds(publisher.url, channel));
    clients.forEach((client, index) => {
      const subset = subsets[index]!;
      expect(client.messages).toHaveLength(expected(subset, 14));
      expect(client.messages.filter((message) => message.event !== 'message')).toEqual([]);
      // The channels had no events: each stream started at 0 on each.
      const { byChannel } = followCursor(new Map(subset.map((channel) => [channel, 0])), client.messages);
      for (const channel of subset) expect({ channel, ids: byChannel.get(channel) }).toEqual({ channel, ids: histories.get(channel) });
    });
  });

  it('tells each channel of a stream about events Redis lost in its own hub.gap and keeps the cursor exact', async () => {
    const hub = await startTestServer('redis', { REDIS_URL: redis.url, HEARTBEAT_MS: '100' });
    servers.push(hub);
    const channels = ['lost.a', 'lost.b'];
    const before = [await publishEvent(hub.url, 'lost.a', 'a1'), await publishEvent(hub.url, 'lost.b', 'b1')];
    const client = await SseClient.open(`${hub.url}${streamsPath(channels)}`, { 'Last-Event-ID': 'lost.a=0,lost.b=0' });
    clients.push(client);
    await client.waitForMessages(2);

    await redis.kill();
    await eventually(async () => (await readyStatus(hub.url)) === 503, '/readyz 503');
    await redis.start();
    await eventually(async () => (await readyStatus(hub.url)) === 200, '/readyz 200');
    // Redis came back empty: both channels' histories start again at a later id.
    const afterB = await publishEvent(hub.url, 'lost.b', 'b2');
    const afterA = await publishEvent(hub.url, 'lost.a', 'a2');
    await client.waitFor((c) => eventsOnly(c.messages).length === 4, 10_000, 'the events after the outage');
    await client.waitFor((c) => c.messages.length === 6, 10_000, 'two hub.gap notices');

    const gaps = client.messages.filter((message) => message.event === 'hub.gap');
    expect(gaps.map((gap) => gap.id)).toEqual([undefined, undefined]);
    expect(gaps.map((gap) => JSON.parse(gap.data) as unknown)).toEqual(
      expect.arrayContaining([
        { channel: 'lost.a', lastEventId: String(before[0]), firstAvailableId: String(afterA) },
        { channel: 'lost.b', lastEventId: String(before[1]), firstAvailableId: String(afterB) },
      ]),
    );
    // Each channel's notice comes right before its own first new event.
    const order = client.messages.map((message) => (message.event === 'hub.gap' ? `gap ${(JSON.parse(message.data) as { channel: string }).channel}` : (JSON.parse(message.data) as { channel: string; id: string }).id));
    expect(order.indexOf('gap lost.a')).toBe(order.indexOf(String(afterA)) - 1);
    expect(order.indexOf('gap lost.b')).toBe(order.indexOf(String(afterB)) - 1);
    const { positions } = followCursor(
      new Map([
        ['lost.a', 0],
        ['lost.b', 0],
      ]),
      eventsOnly(client.messages),
    );
    expect(client.lastEventId).toBe(formatCursor(positions));
    expect(client.lastEventId).toBe(`lost.a=${afterA},lost.b=${afterB}`);
  });
});

describe('a pub/sub hole on one channel of multi-channel streams', () => {
  let server: TestServer;
  let redis: Redis;
  const clients: SseClient[] = [];

  beforeAll(async () => {
    server = await startTestServer('redis');
    redis = new Redis(testRedisUrl());
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    redis.disconnect();
    await server.close();
  });

  async function publishWithLostMessage(channel: string, data: unknown): Promise<number> {
    return Number(await publishLost(redis, server.config.redisPrefix, channel, data));
  }

  it('is filled from history for that channel, while the other channels of the same streams go on untouched', async () => {
    const channels = ['hole.a', 'hole.b', 'hole.c'];
    const both = await SseClient.open(`${server.url}${streamsPath(channels)}`);
    const others = await SseClient.open(`${server.url}${streamsPath(['hole.b', 'hole.c'])}`);
    const single = await SseClient.open(`${server.url}/channels/hole.a/stream`);
    clients.push(both, others, single);
    const ids = new Map<string, number[]>(channels.map((channel) => [channel, []]));
    const publish = async (channel: string, data: unknown): Promise<void> => {
      ids.get(channel)!.push(await publishEvent(server.url, channel, data));
    };
    for (const channel of channels) await publish(channel, 'first');
    await both.waitForMessages(3);

    ids.get('hole.a')!.push(await publishWithLostMessage('hole.a', 'lost'));
    await publish('hole.b', 'b after the hole');
    await publish('hole.c', 'c after the hole');
    await others.waitForMessages(4);
    await publish('hole.a', 'a after the hole');
    await both.waitForMessages(7);
    await single.waitForMessages(3);

    for (const [client, followed] of [
      [both, channels],
      [others, ['hole.b', 'hole.c']],
    ] as const) {
      expect(client.messages.filter((message) => message.event !== 'message')).toEqual([]);
      const { byChannel } = followCursor(new Map(followed.map((channel) => [channel, 0])), client.messages);
      for (const channel of followed) expect({ channel, ids: byChannel.get(channel) }).toEqual({ channel, ids: ids.get(channel) });
    }
    expect(single.ids).toEqual(ids.get('hole.a'));
    expect((await fetch(`${server.url}/metrics`).then((response) => response.text())).match(/^ssehub_gaps_repaired_total (\d+)/m)?.[1]).not.toBe('0');
  });
});

describe.each(BROKERS)('a client leaving halfway through a multi-channel paged replay on the %s broker', (broker) => {
  const CHANNELS = ['replay.a', 'replay.b', 'replay.c'];
  const EVENTS_PER_CHANNEL = 450; // more than two pages of 200 each
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(broker);
    const payload = JSON.stringify('r'.repeat(100));
    for (const channel of CHANNELS) {
      for (let n = 0; n < EVENTS_PER_CHANNEL; n += 50) {
        await Promise.all(Array.from({ length: 50 }, () => server.broker.publish({ channel, event: 'message', dataJson: payload })));
      }
    }
  });
  afterAll(async () => {
    await server.close();
  });

  const fromZero = CHANNELS.map((channel) => `${channel}=0`).join(',');

  it('leaves no client, channel or subscription behind when the connection closes after the first events', async () => {
    const leaver = await SseClient.open(`${server.url}${streamsPath(CHANNELS)}`, { 'Last-Event-ID': fromZero }, { keepData: false });
    await leaver.waitForMessages(1);
    leaver.close();
    expect(leaver.messages.length).toBeLessThan(CHANNELS.length * EVENTS_PER_CHANNEL);
    await eventually(() => server.hub.clientCount === 0 && server.hub.channelCount === 0, 'the hub to forget the stream and its channels');

    // Nothing broken: a new stream from the beginning gets every event of every channel once.
    const reader = await SseClient.open(`${server.url}${streamsPath(CHANNELS)}`, { 'Last-Event-ID': fromZero }, { keepData: true });
    try {
      await reader.waitForMessages(CHANNELS.length * EVENTS_PER_CHANNEL, 15_000);
      const { byChannel } = followCursor(new Map(CHANNELS.map((channel) => [channel, 0])), reader.messages);
      for (const channel of CHANNELS) expect(byChannel.get(channel)).toEqual(await historyIds(server.url, channel));
      expect(countOf(reader, CHANNELS[0]!)).toBe(EVENTS_PER_CHANNEL);
    } finally {
      reader.close();
    }
    await eventually(() => server.hub.clientCount === 0 && server.hub.channelCount === 0, 'the hub to forget the reader');
  });

  it('leaves no listener on the stream when it goes away while each channel waits for it to take a page', async () => {
    const subscribedBefore = brokerListeners(server);
    // A stream nobody reads: each channel's replay writes its first page and waits for `drain`.
    const body = new PassThrough();
    await server.hub.connect({
      channels: CHANNELS.map((name) => ({ name, resumePoint: 0 })),
      framing: 'multi',
      stream: body,
      abortConnection: () => body.destroy(),
    });
    await eventually(() => body.listenerCount('drain') === CHANNELS.length, 'every channel to wait for the stream');
    expect(server.hub.channelCount).toBe(CHANNELS.length);
    const buffered = body.readableLength;
    expect(buffered).toBeGreaterThan(0);

    body.destroy();
    await eventually(() => server.hub.clientCount === 0 && server.hub.channelCount === 0, 'the hub to forget the stream and its channels');
    expect(body.listenerCount('drain')).toBe(0);
    expect(body.listenerCount('close')).toBe(0);
    expect(brokerListeners(server)).toEqual(subscribedBefore);
    // A new stream on the same channels subscribes afresh and is served live.
    const live = await SseClient.open(`${server.url}${streamsPath(CHANNELS)}`);
    try {
      const id = await publishEvent(server.url, 'replay.b', 'after the leave');
      await live.waitForMessages(1);
      expect(JSON.parse(live.messages[0]!.data)).toEqual({ channel: 'replay.b', id: String(id), data: 'after the leave' });
    } finally {
      live.close();
    }
  });
});

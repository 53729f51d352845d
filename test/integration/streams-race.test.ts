import { SseClient } from '../helpers/sse-client';
import { followCursor, formatCursor, historyIds, parseCursor, publishEvent, streamsPath } from '../helpers/multi-stream';
import { BROKERS, startTestServer, uniquePrefix, type BrokerKind, type TestServer } from '../helpers/test-server';

const CHANNELS = ['race.a', 'race.b', 'race.c', 'race.d'];
const PUBLISHERS = 4;
const EVENTS_PER_PUBLISHER = 60;
/**
 * Each client follows a set of 2 to 4 channels (given in no particular order); the last two
 * repeat the fourth's set, so clients at the same positions share frames in the fan-out.
 */
const CLIENT_CHANNELS: readonly (readonly string[])[] = [
  ['race.a', 'race.b'],
  ['race.d', 'race.b', 'race.c'],
  ['race.c', 'race.a'],
  ['race.a', 'race.b', 'race.c', 'race.d'],
  ['race.d', 'race.c'],
  ['race.b', 'race.d', 'race.a'],
  ['race.d', 'race.c', 'race.b', 'race.a'],
  ['race.b', 'race.a', 'race.d', 'race.c'],
];

function randomDelay(maxMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * maxMs));
}

/** What the publishers have done so far: the newest id per channel, and whether they finished. */
interface Published {
  readonly newest: Map<string, number>;
  done: boolean;
}

/**
 * A client on `channels` that keeps dropping its stream at random moments and resuming with the
 * last `id:` it received (the cursor, or the opening position block when no event came), each
 * time on the next instance, until it holds the newest id of every channel after publishing
 * ended. Checks every cursor on the way; returns the ids it received, by channel, in arrival order.
 */
async function reconnectingClient(
  servers: TestServer[],
  channels: readonly string[],
  published: Published,
): Promise<{ received: Map<string, number[]>; connections: number }> {
  const received = new Map<string, number[]>(channels.map((channel) => [channel, []]));
  // The first connection replays every channel from its beginning.
  let cursor = formatCursor(new Map(channels.map((channel) => [channel, 0])));
  const isDone = (positions: ReadonlyMap<string, number>): boolean =>
    published.done && channels.every((channel) => positions.get(channel) === (published.newest.get(channel) ?? 0));
  let connections = 0;
  for (; !isDone(parseCursor(cursor)); connections++) {
    if (connections > 400) throw new Error('too many reconnects');
    const server = servers[connections % servers.length]!;
    const client = await SseClient.open(`${server.url}${streamsPath(channels)}`, { 'Last-Event-ID': cursor }, { keepData: true });
    const final = published.done;
    if (final) {
      // The final connection: stay until every channel reached its newest id.
      await client.waitFor((c) => c.lastEventId !== undefined && isDone(parseCursor(c.lastEventId)), 15_000, `all ids on ${channels.join(',')}`);
    } else {
      await randomDelay(40);
    }
    client.close();
    // A snapshot taken at once: what this connection delivered, and the cursor after it.
    const messages = [...client.messages];
    const opening = client.lastEventId;
    const { positions, byChannel } = followCursor(parseCursor(cursor), messages);
    // The opening position block repeats the cursor it resumed from, and the last id is the cursor.
    if (opening !== undefined) expect(opening).toBe(formatCursor(positions));
    for (const [channel, ids] of byChannel) received.get(channel)!.push(...ids);
    cursor = formatCursor(positions);
  }
  return { received, connections };
}

async function raceOn(servers: TestServer[]): Promise<void> {
  const published: Published = { newest: new Map(), done: false };
  const counts = new Map<string, number>();
  const publishers = Array.from({ length: PUBLISHERS }, async (_, publisher) => {
    for (let n = 0; n < EVENTS_PER_PUBLISHER; n++) {
      const channel = CHANNELS[(publisher + n) % CHANNELS.length]!;
      const server = servers[(publisher + n) % servers.length]!;
      const id = await publishEvent(server.url, channel, { publisher, n });
      published.newest.set(channel, Math.max(id, published.newest.get(channel) ?? 0));
      counts.set(channel, (counts.get(channel) ?? 0) + 1);
      if (n % 10 === 0) await randomDelay(5);
    }
  });
  const clients = CLIENT_CHANNELS.map((channels) => reconnectingClient(servers, channels, published));
  await Promise.all(publishers);
  published.done = true;
  const results = await Promise.all(clients);

  const histories = new Map<string, number[]>();
  for (const channel of CHANNELS) {
    const ids = await historyIds(servers[0]!.url, channel);
    expect(ids).toHaveLength(counts.get(channel)!);
    // Ids of a channel go up by exactly one per event.
    expect(ids[ids.length - 1]! - ids[0]!).toBe(ids.length - 1);
    histories.set(channel, ids);
  }
  // The drops really happened: every client resumed many times.
  for (const { connections } of results) expect(connections).toBeGreaterThan(3);
  process.stdout.write(`multi-channel race: ${results.map((result) => result.connections).join(', ')} connections per client\n`);
  results.forEach(({ received }, index) => {
    for (const channel of CLIENT_CHANNELS[index]!) {
      expect({ client: index, channel, ids: received.get(channel) }).toEqual({ client: index, channel, ids: histories.get(channel) });
    }
  });
}

describe.each(BROKERS)('publishers on several channels racing reconnecting multi-channel clients on the %s broker', (broker: BrokerKind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(broker);
  });
  afterAll(async () => {
    await server.close();
  });

  it('gives every client every id of each of its channels exactly once, in order, resuming with its cursor after random drops', async () => {
    await raceOn([server]);
  });
});

describe('publishers on several channels racing reconnecting multi-channel clients across two instances on one Redis', () => {
  let servers: TestServer[];
  beforeAll(async () => {
    const prefix = uniquePrefix();
    servers = [await startTestServer('redis', { REDIS_PREFIX: prefix }), await startTestServer('redis', { REDIS_PREFIX: prefix })];
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('gives every client every id of each of its channels exactly once, in order, when each reconnect lands on the other instance', async () => {
    await raceOn(servers);
  });
});

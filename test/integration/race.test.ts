import request from 'supertest';
import { SseClient } from '../helpers/sse-client';
import { BROKERS, startTestServer, uniquePrefix, type BrokerKind, type TestServer } from '../helpers/test-server';

const PUBLISHERS = 4;
const EVENTS_PER_PUBLISHER = 100;
const USERS = 6;

function randomDelay(maxMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * maxMs));
}

/**
 * A user that keeps dropping its connection and resuming with Last-Event-ID (possibly on another
 * instance) until it has seen `until()` ids; returns every id it received, in arrival order.
 */
async function reconnectingUser(servers: TestServer[], channel: string, isDone: (ids: number[]) => boolean): Promise<number[]> {
  const received: number[] = [];
  let connections = 0;
  while (!isDone(received)) {
    const server = servers[connections++ % servers.length]!;
    const resumeFrom = received.length === 0 ? '0' : String(received[received.length - 1]);
    const client = await SseClient.open(`${server.url}/channels/${channel}/stream`, { 'Last-Event-ID': resumeFrom });
    if (isDone(received)) {
      // The final connection: stay until everything has arrived.
      await client.waitFor(() => isDone([...received, ...client.ids]), 15_000, 'all ids');
    } else {
      await randomDelay(40);
    }
    client.close();
    received.push(...client.ids);
    if (connections > 500) throw new Error('too many reconnects');
  }
  return received;
}

async function raceOn(servers: TestServer[], channel: string): Promise<void> {
  const published: number[] = [];
  let publishing = true;
  const publishers = Array.from({ length: PUBLISHERS }, async (_, publisher) => {
    for (let n = 0; n < EVENTS_PER_PUBLISHER; n++) {
      const server = servers[(publisher + n) % servers.length]!;
      const response = await request(server.url).post(`/channels/${channel}/events`).send({ data: { publisher, n } }).expect(201);
      published.push(Number((response.body as { id: string }).id));
      if (n % 10 === 0) await randomDelay(5);
    }
  });
  const allPublished = Promise.all(publishers).then(() => {
    publishing = false;
  });
  const isDone = (ids: number[]): boolean =>
    !publishing && ids.length >= published.length && ids[ids.length - 1] === Math.max(...published);
  const users = Array.from({ length: USERS }, () => reconnectingUser(servers, channel, isDone));
  await allPublished;
  const results = await Promise.all(users);

  const expected = [...published].sort((a, b) => a - b);
  expect(expected).toHaveLength(PUBLISHERS * EVENTS_PER_PUBLISHER);
  // Ids of a channel go up by exactly one per event.
  expect(expected[expected.length - 1]! - expected[0]!).toBe(expected.length - 1);
  for (const ids of results) expect(ids).toEqual(expected);
}

describe.each(BROKERS)('publishers racing reconnecting clients on the %s broker', (broker: BrokerKind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(broker);
  });
  afterAll(async () => {
    await server.close();
  });

  it('gives every client every id exactly once, in order, across random drops and resumes', async () => {
    await raceOn([server], 'race');
  });
});

describe('publishers racing reconnecting clients across two instances on one Redis', () => {
  let servers: TestServer[];
  beforeAll(async () => {
    const prefix = uniquePrefix();
    servers = [await startTestServer('redis', { REDIS_PREFIX: prefix }), await startTestServer('redis', { REDIS_PREFIX: prefix })];
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('gives every client every id exactly once, in order, when each reconnect lands on the other instance', async () => {
    await raceOn(servers, 'race-two');
  });
});

import { PassThrough } from 'node:stream';
import Redis from 'ioredis';
import request from 'supertest';
import { SseClient } from '../helpers/sse-client';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { eventually } from '../helpers/eventually';

/** Kills only the subscriber connections; the command connection goes on publishing. */
async function dropSubscribers(admin: Redis): Promise<void> {
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
}

function nextResubscribe(server: TestServer): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    server.broker.on('resubscribed', () => {
      if (!done) {
        done = true;
        resolve();
      }
    });
  });
}

describe('catching up after the subscriber connection dropped', () => {
  // A Redis of its own: CLIENT KILL TYPE pubsub would drop the subscriber connection of every
  // test server sharing a Redis (each subscribes to the server API's control channel).
  let ownRedis: RedisServer;
  let server: TestServer;
  let admin: Redis;
  beforeAll(async () => {
    ownRedis = await startRedisServer();
  });
  afterAll(async () => {
    await ownRedis.stop();
  });
  beforeEach(async () => {
    server = await startTestServer('redis', { REDIS_URL: ownRedis.url });
    admin = new Redis(ownRedis.url);
  });
  afterEach(async () => {
    admin.disconnect();
    await server.close();
  });

  it('delivers what was published meanwhile on a channel that had no events when its first client came', async () => {
    const client = await SseClient.open(`${server.url}/channels/fresh/stream`);
    try {
      await client.waitFor((c) => c.retries.length === 1, 5000, 'the retry line');
      const resubscribed = nextResubscribe(server);
      await dropSubscribers(admin);
      const first = await server.broker.publish({ channel: 'fresh', event: 'message', dataJson: '1' });
      const second = await server.broker.publish({ channel: 'fresh', event: 'message', dataJson: '2' });
      await resubscribed;
      // Nothing else is published: only the catch-up can deliver them.
      await client.waitForMessages(2);
      expect(client.ids).toEqual([first.id, second.id]);
    } finally {
      client.close();
    }
  });

  it('sends no duplicate to a client resuming at the newest id while the hub is still catching up', async () => {
    await request(server.url).post('/channels/room/events').send({ data: 0 }).expect(201);
    const keeper = await SseClient.open(`${server.url}/channels/room/stream`);
    try {
      await keeper.waitFor((c) => c.retries.length === 1, 5000, 'the retry line');
      const resubscribed = nextResubscribe(server);
      await dropSubscribers(admin);
      await server.broker.publish({ channel: 'room', event: 'message', dataJson: '1' });
      const newest = await server.broker.publish({ channel: 'room', event: 'message', dataJson: '2' });
      let text = '';
      const connected = resubscribed.then(async () => {
        // It already has `newest` (say from another instance) and reconnects here just now.
        const body = new PassThrough();
        body.on('data', (chunk: Buffer) => (text += chunk.toString()));
        await server.hub.connect({ channels: [{ name: 'room', resumePoint: newest.id }], framing: 'single', stream: body, abortConnection: () => body.destroy() });
      });
      await connected;
      await keeper.waitForMessages(2);
      const next = await request(server.url).post('/channels/room/events').send({ data: 3 }).expect(201);
      await keeper.waitForMessages(3);
      await eventually(() => text.includes(`id: ${(next.body as { id: string }).id}\n`), 'the new event on the reconnected stream', { timeoutMs: 5000 });
      // The opening position block (the resume point), then the one new event.
      expect([...text.matchAll(/^id: (\d+)$/gm)].map((match) => match[1])).toEqual([String(newest.id), (next.body as { id: string }).id]);
    } finally {
      keeper.close();
    }
  });
});

describe('resuming a long history on the in-process broker', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('memory', { CLIENT_BUFFER_BYTES: String(256 * 1024) });
  });
  afterAll(async () => {
    await server.close();
  });

  it('replays more than CLIENT_BUFFER_BYTES of history to a reading client instead of dropping it', async () => {
    const payload = 'z'.repeat(2048);
    for (let n = 0; n < 300; n++) {
      await request(server.url).post('/channels/long/events').send({ data: payload }).expect(201);
    }
    const client = await SseClient.open(`${server.url}/channels/long/stream`, { 'Last-Event-ID': '0' }, { keepData: false });
    try {
      await client.waitForMessages(300);
      expect(new Set(client.ids).size).toBe(300);
    } finally {
      client.close();
    }
  });
});

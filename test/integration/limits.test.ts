import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import request from 'supertest';
import { retainedBytes } from '../helpers/gc';
import { SseClient } from '../helpers/sse-client';
import { BROKERS, startTestServer, type TestServer } from '../helpers/test-server';
import { eventually } from '../helpers/eventually';

function metricValue(text: string, name: string): number {
  const match = new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text);
  if (!match) throw new Error(`metric ${name} not found`);
  return Number(match[1]);
}

async function metric(server: TestServer, name: string): Promise<number> {
  return metricValue((await request(server.url).get('/metrics')).text, name);
}

describe.each(BROKERS)('limits on the %s broker', (broker) => {
  describe('MAX_CLIENTS', () => {
    let server: TestServer;
    const clients: SseClient[] = [];
    beforeAll(async () => {
      server = await startTestServer(broker, { MAX_CLIENTS: '2', RETRY_MS: '1000' });
    });
    afterAll(async () => {
      for (const client of clients) client.close();
      await server.close();
    });

    it('answers a stream past the limit with 200, only a jittered retry of 5-15x RETRY_MS, then the end; frees slots when clients leave', async () => {
      const first = await SseClient.open(`${server.url}/channels/full/stream`);
      const second = await SseClient.open(`${server.url}/channels/other/stream`);
      clients.push(first, second);
      const retries: number[] = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        const refused = await SseClient.open(`${server.url}/channels/full/stream`);
        await refused.waitForEnd();
        expect(refused.response?.statusCode).toBe(200);
        expect(refused.response?.headers['content-type']).toMatch(/^text\/event-stream/);
        expect(refused.messages).toEqual([]);
        expect(refused.retries).toHaveLength(1);
        retries.push(refused.retries[0]!);
      }
      for (const retry of retries) {
        expect(retry).toBeGreaterThanOrEqual(5000);
        expect(retry).toBeLessThanOrEqual(15000);
      }
      expect(new Set(retries).size).toBeGreaterThan(1);
      expect(await metric(server, 'ssehub_clients_refused_total')).toBe(5);
      expect(await metric(server, 'ssehub_clients_connected')).toBe(2);

      first.close();
      await first.waitForEnd();
      await eventually(async () => (await metric(server, 'ssehub_clients_connected')) === 1, 'the closed stream to free its slot', { timeoutMs: 5000 });
      const admitted = await SseClient.open(`${server.url}/channels/full/stream`);
      clients.push(admitted);
      const response = await request(server.url).post('/channels/full/events').send({ data: 'in' }).expect(201);
      await admitted.waitForMessages(1);
      expect(admitted.messages[0]?.id).toBe((response.body as { id: string }).id);
    });
  });

  describe('heartbeats', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(broker, { HEARTBEAT_MS: '50' });
    });
    afterAll(async () => {
      await server.close();
    });

    it('sends an idle stream a comment line every HEARTBEAT_MS', async () => {
      const client = await SseClient.open(`${server.url}/channels/idle/stream`);
      const started = Date.now();
      await client.waitFor((c) => c.comments.length >= 4, 5000, 'four heartbeats');
      const elapsed = Date.now() - started;
      client.close();
      expect(client.messages).toEqual([]);
      // At least the idle time between them passed (no tight loop), whatever the machine's load.
      expect(elapsed).toBeGreaterThanOrEqual(4 * 50 * 0.9);
    });
  });

  describe('slow clients', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(broker, { CLIENT_BUFFER_BYTES: String(256 * 1024), HISTORY_SIZE: '100' });
    });
    afterAll(async () => {
      await server.close();
    });

    it('ends the stream of a client that does not read, while a reading client beside it gets everything', async () => {
      // A raw socket that asks for the stream and never reads a byte.
      const slow: Socket = connect(server.port, '127.0.0.1');
      await once(slow, 'connect');
      slow.pause();
      slow.write('GET /channels/firehose/stream HTTP/1.1\r\nHost: localhost\r\n\r\n');
      const slowClosed = once(slow, 'close');
      slow.on('error', () => undefined);
      const reader = await SseClient.open(`${server.url}/channels/firehose/stream`, {}, { keepData: false });
      await new Promise<void>((resolve) => {
        const check = async (): Promise<void> => {
          if ((await metric(server, 'ssehub_clients_connected')) >= 2) resolve();
          else setTimeout(() => void check(), 10);
        };
        void check();
      });
      const retainedBefore = retainedBytes();

      // About 25 MB: more than loopback's kernel buffers absorb, 100 times the client's limit.
      const payload = 'x'.repeat(32 * 1024);
      const total = 800;
      for (let sent = 0; sent < total; sent += 20) {
        await Promise.all(
          Array.from({ length: 20 }, () => request(server.url).post('/channels/firehose/events').send({ data: payload }).expect(201)),
        );
      }
      await reader.waitForMessages(total, 30_000);
      // Had the hub kept the slow client, it would hold the 25 MB it could not send.
      const retainedGrowthMb = (retainedBytes() - retainedBefore) / 1024 / 1024;
      reader.close();
      expect(new Set(reader.ids).size).toBe(total);
      expect(await metric(server, 'ssehub_clients_dropped_slow_total')).toBe(1);
      // Once it reads again, the slow client finds its stream ended (it would reconnect and resume).
      slow.resume();
      await slowClosed;
      process.stdout.write(`slow client: dropped while ${(total * 32) / 1024} MB were published; memory held grew ${retainedGrowthMb.toFixed(1)} MB\n`);
      expect(retainedGrowthMb).toBeLessThan(8);
    }, 60_000);
  });
});

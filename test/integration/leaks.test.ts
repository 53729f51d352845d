import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { Access, type ReadRequest } from '../../src/access/access';
import { retainedBytes } from '../helpers/gc';
import { SseClient } from '../helpers/sse-client';
import { BROKERS, startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const CLIENTS = 2000;
const AT_ONCE = 100;

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(BROKERS)('connect and disconnect churn on the %s broker', (broker) => {
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer(broker, { MAX_CLIENTS: String(CLIENTS) });
  });
  afterAll(async () => {
    await server.close();
  });

  async function churn(count: number): Promise<void> {
    for (let done = 0; done < count; done += AT_ONCE) {
      const batch = await Promise.all(
        Array.from({ length: AT_ONCE }, (_, n) =>
          SseClient.open(`${server.url}/channels/churn-${n % 10}/stream`, n % 2 === 0 ? { 'Last-Event-ID': '0' } : {}),
        ),
      );
      await Promise.all(batch.map((client) => client.waitFor((c) => c.retries.length > 0, 5000, 'the retry line')));
      for (const client of batch) client.close();
      await until(() => server.hub.clientCount === 0, 'the hub to drop the closed clients');
    }
  }

  it(`holds no client, channel, timer or listener after ${CLIENTS} clients came and went, and memory returns near its baseline`, async () => {
    for (let n = 0; n < 10; n++) {
      await request(server.url).post(`/channels/churn-${n}/events`).send({ data: n }).expect(201);
    }
    await churn(200); // warm-up: JIT, pools, lazily built structures
    const resourcesBefore = process.getActiveResourcesInfo().length;
    const bytesBefore = retainedBytes();

    await churn(CLIENTS);

    expect(server.hub.clientCount).toBe(0);
    expect(server.hub.channelCount).toBe(0);
    await until(() => process.getActiveResourcesInfo().length <= resourcesBefore, 'sockets and timers to be released');
    const growthMb = (retainedBytes() - bytesBefore) / 1024 / 1024;
    process.stdout.write(`churn of ${CLIENTS} clients (${broker}): retained memory ${(bytesBefore / 1048576).toFixed(1)} MB before, ${growthMb >= 0 ? '+' : ''}${growthMb.toFixed(2)} MB after\n`);
    expect(growthMb).toBeLessThan(3);
    const metrics = await request(server.url).get('/metrics');
    expect(metrics.text).toMatch(/^ssehub_clients_connected 0$/m);
  }, 60_000);
});

describe.each(BROKERS)('a client that leaves while its stream is being set up (%s broker)', (broker) => {
  afterEach(() => jest.restoreAllMocks());

  it('leaves no stream registered (its close came before the stream could watch for it)', async () => {
    const server = await startTestServer(broker, { PRESENCE_CHANNELS: 'setup.*' });
    try {
      const original = Access.prototype.authorizeRead;
      const openSockets = (): number => process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
      let arrived: () => void = () => undefined;
      const arrival = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      let authorized: () => void = () => undefined;
      const authorization = new Promise<void>((resolve) => {
        authorized = resolve;
      });
      // Authorization finishes only after the client is gone (both ends of its connection
      // closed), so the hub registers a stream whose connection has already closed.
      jest.spyOn(Access.prototype, 'authorizeRead').mockImplementationOnce(async function (this: Access, read: ReadRequest, channels: readonly string[]) {
        const sockets = openSockets();
        arrived();
        await until(() => openSockets() <= sockets - 2, 'the connection to close on both ends');
        authorized();
        return original.call(this, read, channels);
      });
      const req = httpRequest(`${server.url}/channels/setup.a/stream`);
      req.on('error', () => undefined);
      req.end();
      await arrival;
      req.destroy();
      await authorization;
      await until(() => server.hub.clientCount === 0, 'the stream to be released');
      // Give a wrongly kept stream time to show up as registered.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(server.hub.clientCount).toBe(0);
      expect(server.hub.channelCount).toBe(0);
      const presence = await request(server.url).get('/channels/setup.a/presence');
      expect(presence.body).toMatchObject({ connections: 0, members: [] });
    } finally {
      await server.close();
    }
  });
});

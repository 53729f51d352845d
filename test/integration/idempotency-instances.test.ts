import request from 'supertest';
import { SseClient } from '../helpers/sse-client';
import { startTestServer, uniquePrefix } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

describe('Idempotency-Key across instances', () => {
  let servers: Server[];
  beforeAll(async () => {
    const prefix = uniquePrefix();
    servers = await Promise.all([1, 2].map(() => startTestServer('redis', { REDIS_PREFIX: prefix })));
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('stores and publishes once when retries with one key race on two instances', async () => {
    // Retries of one publish: the same event and data each time.
    const client = await SseClient.open(`${servers[0]!.url}/channels/retry/stream`);
    try {
      const attempts = await Promise.all(
        Array.from({ length: 10 }, (_, n) =>
          request(servers[n % 2]!.url).post('/channels/retry/events').set('Idempotency-Key', 'order-42').send({ data: { order: 42 } }),
        ),
      );
      const created = attempts.filter((response) => response.status === 201);
      const repeated = attempts.filter((response) => response.status === 200);
      expect(created).toHaveLength(1);
      expect(repeated).toHaveLength(9);
      for (const response of repeated) expect(response.body).toEqual(created[0]!.body);

      const marker = await request(servers[1]!.url).post('/channels/retry/events').send({ data: 'marker' }).expect(201);
      await client.waitForMessages(2);
      expect(client.messages.map((message) => message.id)).toEqual([
        (created[0]!.body as { id: string }).id,
        (marker.body as { id: string }).id,
      ]);
      const history = await request(servers[1]!.url).get('/channels/retry/events').expect(200);
      expect((history.body as { events: unknown[] }).events).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  it('stores one event when publishes of different data race with one key: the rest are 422, none overwrites it', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        request(servers[n % 2]!.url).post('/channels/clash/events').set('Idempotency-Key', 'k').send({ data: { n } }),
      ),
    );
    const created = attempts.filter((response) => response.status === 201);
    expect(created).toHaveLength(1);
    expect(attempts.filter((response) => response.status === 422).map((response) => (response.body as { error: { code: string } }).error.code)).toEqual(
      Array.from({ length: 9 }, () => 'idempotency_key_reused'),
    );
    const history = await request(servers[0]!.url).get('/channels/clash/events').expect(200);
    expect((history.body as { events: Array<{ id: string }> }).events.map((event) => event.id)).toEqual([(created[0]!.body as { id: string }).id]);
  });
});

import { connect } from 'node:net';
import { Redis } from 'ioredis';
import request from 'supertest';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { SseClient } from '../helpers/sse-client';
import { BROKERS, startTestServer, testRedisUrl } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

interface HistoryItem {
  id: string;
  event: string;
  data: unknown;
}

/** Sends `text` as is on a new connection and resolves with everything the server answered. */
function rawHttp(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe.each(BROKERS)('publishing on the %s broker', (broker) => {
  let server: Server;
  const clients: SseClient[] = [];

  beforeAll(async () => {
    server = await startTestServer(broker);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await server.close();
  });

  const history = async (channel: string): Promise<HistoryItem[]> => {
    const response = await request(server.url).get(`/channels/${channel}/events?limit=1000`).expect(200);
    return (response.body as { events: HistoryItem[] }).events;
  };

  it('answers 201 with the id, channel and event once the event is in the history', async () => {
    const response = await request(server.url).post('/channels/shape/events').send({ data: { text: 'hi' } });
    expect(response.status).toBe(201);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(response.body as object).sort()).toEqual(['channel', 'event', 'id']);
    const body = response.body as { id: string; channel: string; event: string };
    expect(body).toEqual({ id: expect.stringMatching(/^[1-9][0-9]*$/) as string, channel: 'shape', event: 'message' });
    expect(Number(body.id)).toBeLessThan(2 ** 53);
    expect(await history('shape')).toEqual([{ id: body.id, event: 'message', data: { text: 'hi' } }]);
  });

  it.each([
    ['null', null],
    ['0', 0],
    ['false', false],
    ['the empty string', ''],
  ])('accepts %s as data and keeps it as sent', async (_, data) => {
    const channel = `falsy-${String(data).length}-${typeof data}`;
    const response = await request(server.url).post(`/channels/${channel}/events`).send({ data }).expect(201);
    const [item] = await history(channel);
    expect(item).toEqual({ id: (response.body as { id: string }).id, event: 'message', data });
  });

  it('uses the event name message by default and keeps a custom one', async () => {
    const plain = await request(server.url).post('/channels/names/events').send({ data: 1 }).expect(201);
    const custom = await request(server.url).post('/channels/names/events').send({ event: 'user.joined', data: 2 }).expect(201);
    expect((plain.body as { event: string }).event).toBe('message');
    expect((custom.body as { event: string }).event).toBe('user.joined');
    expect((await history('names')).map((item) => item.event)).toEqual(['message', 'user.joined']);
  });

  it('accepts a JSON content type with a charset parameter', async () => {
    await request(server.url)
      .post('/channels/charset/events')
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ data: 'ü' }))
      .expect(201);
    expect((await history('charset'))[0]?.data).toBe('ü');
  });

  it('accepts the JSON media type in any letter case', async () => {
    await request(server.url)
      .post('/channels/case/events')
      .set('Content-Type', 'Application/JSON; Charset=UTF-8')
      .send(JSON.stringify({ data: 'case' }))
      .expect(201);
  });

  it('answers 400 invalid_json, not 415, to a JSON publish sent without any body', async () => {
    const answer = await rawHttp(server.port, 'POST /channels/no-body/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"invalid_json"');
  });

  it('refuses data nested too deeply to serialize with 400 invalid_event, and keeps serving', async () => {
    const depth = 32_000;
    const body = `{"data":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const response = await request(server.url).post('/channels/deep/events').set('Content-Type', 'application/json').send(body);
    expect(response.status).toBe(400);
    expect((response.body as { error: { code: string } }).error.code).toBe('invalid_event');
    expect(await history('deep')).toEqual([]);
    await request(server.url).post('/channels/deep/events').send({ data: [[['ok']]] }).expect(201);
  });

  it('gives consecutive ids within a channel', async () => {
    const ids: number[] = [];
    for (let n = 0; n < 3; n++) {
      const response = await request(server.url).post('/channels/consecutive/events').send({ data: n }).expect(201);
      ids.push(Number((response.body as { id: string }).id));
    }
    expect(ids).toEqual([ids[0], ids[0]! + 1, ids[0]! + 2]);
  });

  it('delivers a published event to a stream client of that channel only', async () => {
    const mine = await SseClient.open(`${server.url}/channels/deliver/stream`);
    const other = await SseClient.open(`${server.url}/channels/deliver-other/stream`);
    clients.push(mine, other);
    const response = await request(server.url).post('/channels/deliver/events').send({ event: 'said', data: { a: [1, 2] } }).expect(201);
    await request(server.url).post('/channels/deliver-other/events').send({ data: 'marker' }).expect(201);
    await mine.waitForMessages(1);
    await other.waitForMessages(1);
    expect(mine.messages).toEqual([{ id: (response.body as { id: string }).id, event: 'said', data: '{"a":[1,2]}' }]);
    expect(other.messages.map((message) => message.data)).toEqual(['"marker"']);
  });

  it.each(['Room_1.sub:topic-x', '0', 'Z'.repeat(64)])('publishes, streams and lists history on the channel %s', async (channel) => {
    const client = await SseClient.open(`${server.url}/channels/${channel}/stream`);
    clients.push(client);
    const response = await request(server.url).post(`/channels/${channel}/events`).send({ data: channel }).expect(201);
    const { id } = response.body as { id: string };
    expect((response.body as { channel: string }).channel).toBe(channel);
    await client.waitForMessages(1);
    expect(client.messages).toEqual([{ id, event: 'message', data: JSON.stringify(channel) }]);
    expect(await history(channel)).toEqual([{ id, event: 'message', data: channel }]);
  });

  it('answers a repeated Idempotency-Key with 200 and the first body, storing and sending nothing', async () => {
    const client = await SseClient.open(`${server.url}/channels/idem/stream`);
    clients.push(client);
    const first = await request(server.url).post('/channels/idem/events').set('Idempotency-Key', 'order-17').send({ event: 'created', data: 1 }).expect(201);
    const repeat = await request(server.url).post('/channels/idem/events').set('Idempotency-Key', 'order-17').send({ event: 'created', data: 1 });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    // Other data under the same key is another publish, refused rather than silently dropped.
    const reused = await request(server.url).post('/channels/idem/events').set('Idempotency-Key', 'order-17').send({ data: 'different' });
    expect([reused.status, (reused.body as { error: { code: string } }).error.code]).toEqual([422, 'idempotency_key_reused']);
    const marker = await request(server.url).post('/channels/idem/events').send({ data: 'marker' }).expect(201);
    await client.waitFor((sse) => sse.messages.some((message) => message.id === (marker.body as { id: string }).id));
    expect(client.messages.map((message) => message.data)).toEqual(['1', '"marker"']);
    expect((await history('idem')).map((item) => item.data)).toEqual([1, 'marker']);
  });

  it('stores one event when two requests with the same Idempotency-Key race', async () => {
    const send = () => request(server.url).post('/channels/idem-race/events').set('Idempotency-Key', 'same').send({ data: 'x' });
    const responses = await Promise.all([send(), send(), send()]);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 200, 201]);
    const [first, second, third] = responses;
    expect(second?.body).toEqual(first?.body);
    expect(third?.body).toEqual(first?.body);
    expect(await history('idem-race')).toHaveLength(1);
  });

  it('scopes an Idempotency-Key to its channel', async () => {
    await request(server.url).post('/channels/idem-one/events').set('Idempotency-Key', 'k').send({ data: 1 }).expect(201);
    const other = await request(server.url).post('/channels/idem-two/events').set('Idempotency-Key', 'k').send({ data: 2 }).expect(201);
    expect((other.body as { channel: string }).channel).toBe('idem-two');
  });

  it('accepts Idempotency-Keys of 1 and 128 printable ASCII characters', async () => {
    await request(server.url).post('/channels/idem-edges/events').set('Idempotency-Key', '~').send({ data: 1 }).expect(201);
    const printable = Array.from({ length: 95 }, (_, n) => String.fromCharCode(32 + n)).join('');
    const longest = (printable + printable).slice(0, 126);
    await request(server.url).post('/channels/idem-edges/events').set('Idempotency-Key', `a${longest}z`).send({ data: 2 }).expect(201);
    expect(await history('idem-edges')).toHaveLength(2);
  });

  it.each([
    ['empty', ''],
    ['129 characters', 'k'.repeat(129)],
    ['a tab', 'a\tb'],
    ['non-ASCII', 'clé'],
  ])('refuses an Idempotency-Key that is %s with 400 invalid_idempotency_key', async (_, key) => {
    const response = await request(server.url).post('/channels/idem-bad/events').set('Idempotency-Key', key).send({ data: 1 });
    expect(response.status).toBe(400);
    expect((response.body as { error: { code: string } }).error.code).toBe('invalid_idempotency_key');
    expect(await history('idem-bad')).toEqual([]);
  });
});

describe('idempotency keys in Redis', () => {
  it('are remembered for 5 minutes', async () => {
    const server = await startTestServer('redis');
    const redis = new Redis(testRedisUrl(), { lazyConnect: true });
    try {
      await redis.connect();
      await request(server.url).post('/channels/ttl/events').set('Idempotency-Key', 'remember-me').send({ data: 1 }).expect(201);
      const keys = (await redis.keys(`${server.config.redisPrefix}*`)).filter((key) => key.includes('{ttl}:idem:'));
      expect(keys).toHaveLength(1);
      const ttlMs = await redis.pttl(keys[0]!);
      expect(ttlMs).toBeGreaterThan(4.5 * 60 * 1000);
      expect(ttlMs).toBeLessThanOrEqual(5 * 60 * 1000);
    } finally {
      await redis.quit();
      await server.close();
    }
  });
});

describe('publishing while Redis is down', () => {
  let redis: RedisServer;
  let server: Server;

  beforeAll(async () => {
    redis = await startRedisServer();
    server = await startTestServer('redis', { REDIS_URL: redis.url, RETRY_MS: '100' });
  });
  afterAll(async () => {
    await server.close();
    await redis.stop();
  });

  it('answers 503 broker_unavailable to publishes and history reads, refuses streams with a retry, and recovers with higher ids', async () => {
    const before = await request(server.url).post('/channels/outage/events').send({ data: 'before' }).expect(201);
    const down = new Promise<void>((resolve) => server.broker.on('down', resolve));
    await redis.kill();

    const publish = await request(server.url).post('/channels/outage/events').send({ data: 'during' });
    expect(publish.status).toBe(503);
    expect((publish.body as { error: { code: string } }).error.code).toBe('broker_unavailable');
    const history = await request(server.url).get('/channels/outage/events');
    expect(history.status).toBe(503);
    expect((history.body as { error: { code: string } }).error.code).toBe('broker_unavailable');

    await down;
    const refused = await SseClient.open(`${server.url}/channels/outage/stream`);
    await refused.waitForEnd();
    expect(refused.response?.statusCode).toBe(200);
    expect(refused.response?.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(refused.messages).toEqual([]);
    expect(refused.retries).toHaveLength(1);
    expect(refused.retries[0]).toBeGreaterThanOrEqual(500);
    expect(refused.retries[0]).toBeLessThanOrEqual(1500);

    const back = new Promise<void>((resolve) => server.broker.on('resubscribed', resolve));
    await redis.start();
    await back;
    const after = await request(server.url).post('/channels/outage/events').send({ data: 'after' }).expect(201);
    expect(Number((after.body as { id: string }).id)).toBeGreaterThan(Number((before.body as { id: string }).id));
    const items = await request(server.url).get('/channels/outage/events').expect(200);
    expect((items.body as { events: HistoryItem[] }).events.map((item) => item.data)).toEqual(['after']);
  });
});

import request from 'supertest';
import { writeChannelsConfig, TEST_NAMESPACES } from '../helpers/channels-config';
import { OpenStreams, type SseClient } from '../helpers/sse-client';
import { BROKERS, startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const PUBLISH_TOKEN = 'publish-token-for-namespaces';
const AUTH = { Authorization: `Bearer ${PUBLISH_TOKEN}` };

let serial = 0;
/** A channel name no other test of the run uses, under `prefix` (a namespace's first segment). */
function fresh(prefix: string): string {
  serial++;
  return `${prefix}.c${serial}${Date.now().toString(36)}`;
}

describe.each(BROKERS)('channel namespaces on the %s broker', (broker) => {
  let server: Server;
  const streams = new OpenStreams();
  const open = (path: string): Promise<SseClient> => streams.open(server.url + path);
  const post = (channel: string, body: unknown): request.Test =>
    request(server.url).post(`/channels/${channel}/events`).set(AUTH).set('Content-Type', 'application/json').send(JSON.stringify(body));
  const history = async (channel: string): Promise<unknown[]> =>
    ((await request(server.url).get(`/channels/${channel}/events`).expect(200)).body as { events: unknown[] }).events;

  beforeAll(async () => {
    server = await startTestServer(broker, {
      CHANNELS_CONFIG: writeChannelsConfig(TEST_NAMESPACES),
      HISTORY_SIZE: '50',
      JWT_SECRET: 'a-test-secret-of-at-least-thirty-two-bytes!!',
      PUBLISH_TOKEN,
      PUBLIC_CHANNELS: '',
    });
  });
  afterEach(() => streams.closeAll());
  afterAll(async () => {
    await server.close();
  });

  it('keeps only the namespace history size of a channel', async () => {
    const channel = fresh('small');
    for (const n of [1, 2, 3]) await post(channel, { data: n }).expect(201);
    expect((await history(channel)).map((event) => (event as { data: number }).data)).toEqual([2, 3]);
  });

  it('forgets a channel history after the namespace historyTtl', async () => {
    const channel = fresh('short');
    await post(channel, { data: 1 }).expect(201);
    expect(await history(channel)).toHaveLength(1);
    const deadline = Date.now() + 10_000;
    // The TTL is 1 s: read until it is gone (no fixed sleep), and fail if it never goes.
    while ((await history(channel)).length > 0) {
      if (Date.now() > deadline) throw new Error('the history never expired');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it('answers 413 above the namespace maxEventBytes and accepts a body of exactly that size, also chunked', async () => {
    const channel = fresh('small');
    const exact = JSON.stringify({ data: 'x'.repeat(100 - '{"data":""}'.length) });
    expect(Buffer.byteLength(exact)).toBe(100);
    await request(server.url).post(`/channels/${channel}/events`).set(AUTH).set('Content-Type', 'application/json').send(exact).expect(201);
    const over = JSON.stringify({ data: 'x'.repeat(101 - '{"data":""}'.length) });
    const refused = await request(server.url).post(`/channels/${channel}/events`).set(AUTH).set('Content-Type', 'application/json').send(over).expect(413);
    expect((refused.body as { error: { code: string } }).error.code).toBe('payload_too_large');
    // Chunked: no Content-Length, the limit is enforced while reading.
    const chunked = request(server.url).post(`/channels/${channel}/events`).set(AUTH).set('Content-Type', 'application/json').set('Transfer-Encoding', 'chunked');
    chunked.write(over.slice(0, 50));
    chunked.write(over.slice(50));
    expect((await chunked).status).toBe(413);
    // Another channel keeps MAX_EVENT_BYTES.
    await post(fresh('open'), { data: 'x'.repeat(200) }).expect(201);
  });

  it('refuses data its schema refuses with 400 invalid_data and details, storing nothing', async () => {
    const channel = fresh('typed');
    const response = await post(channel, { event: 'tick', data: { price: 'high', extra: 1 } }).expect(400);
    const body = response.body as { error: { code: string; message: string; details: Array<{ path: string; message: string }> } };
    expect(body.error.code).toBe('invalid_data');
    expect(body.error.details.map((detail) => detail.path).sort()).toEqual(['/extra', '/price', '/symbol']);
    expect(body.error.details.length).toBeLessThanOrEqual(10);
    expect(await history(channel)).toEqual([]);
    await post(channel, { event: 'tick', data: { price: 1.5, symbol: 'ACME' } }).expect(201);
    expect(await history(channel)).toHaveLength(1);
  });

  it('refuses an unlisted event on a strict namespace with 400 unknown_event, storing nothing', async () => {
    const channel = fresh('typed');
    const response = await post(channel, { event: 'halt', data: {} }).expect(400);
    const error = (response.body as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('unknown_event');
    expect(error.message).toContain('tick');
    expect(await history(channel)).toEqual([]);
  });

  it('takes public from the namespace, else PUBLIC_CHANNELS', async () => {
    await request(server.url).get(`/channels/${fresh('open')}/events`).expect(200);
    await request(server.url).get(`/channels/${fresh('priv')}/events`).expect(401);
    // No namespace and PUBLIC_CHANNELS empty: private.
    await request(server.url).get(`/channels/${fresh('other')}/events`).expect(401);
  });

  it('tracks presence where the namespace says so', async () => {
    await request(server.url).get(`/channels/${fresh('pres')}/presence`).expect(200);
    const untracked = await request(server.url).get(`/channels/${fresh('open')}/presence`).expect(404);
    expect((untracked.body as { error: { code: string } }).error.code).toBe('presence_disabled');
  });

  describe('an ephemeral channel (history: 0)', () => {
    it('answers 202 without an id, ignores an Idempotency-Key and keeps no history', async () => {
      const channel = fresh('eph');
      const first = await post(channel, { event: 'typing', data: { who: 'ann' } }).set('Idempotency-Key', 'k1').expect(202);
      expect(first.body).toEqual({ channel, event: 'typing' });
      await post(channel, { event: 'typing', data: { who: 'bob' } }).set('Idempotency-Key', 'k1').expect(202);
      const answer = await request(server.url).get(`/channels/${channel}/events`).expect(200);
      expect(answer.body).toEqual({ events: [], more: false });
    });

    it('delivers live on a single-channel stream without an id line', async () => {
      const channel = fresh('eph');
      const stream = await open(`/channels/${channel}/stream`);
      await post(channel, { event: 'typing', data: { who: 'ann' } }).expect(202);
      await stream.waitFor((client) => client.messages.some((message) => message.event === 'typing'));
      const message = stream.messages.find((candidate) => candidate.event === 'typing');
      expect(message?.id).toBeUndefined();
      expect(JSON.parse(message?.data ?? 'null')).toEqual({ who: 'ann' });
      expect(stream.lastEventId).toBeUndefined();
    });

    it('delivers on /streams with "id": null, no id line, and no cursor entry, even one given for it', async () => {
      const eph = fresh('eph');
      const kept = fresh('open');
      const stream = await open(`/streams?channel=${eph}&channel=${kept}&lastEventId=${encodeURIComponent(`${eph}=5`)}`);
      // The priming cursor lists the never-published stored channel and not the ephemeral one.
      await stream.waitFor((client) => client.lastEventId !== undefined);
      expect(stream.lastEventId).toBe(`${kept}=0`);
      await post(eph, { event: 'typing', data: 1 }).expect(202);
      const id = ((await post(kept, { data: 2 }).expect(201)).body as { id: string }).id;
      await stream.waitFor((client) => client.messages.filter((message) => message.event !== 'hub.gap').length >= 2);
      const [typing, stored] = stream.messages;
      expect(typing?.id).toBeUndefined();
      expect(JSON.parse(typing?.data ?? 'null')).toEqual({ channel: eph, id: null, data: 1 });
      expect(stored?.id).toBe(`${kept}=${id}`);
      expect(stream.messages.some((message) => message.event === 'hub.gap')).toBe(false);
    });

    it('never sends hub.gap on a stream given a resume point for it', async () => {
      const channel = fresh('eph');
      const stream = await open(`/channels/${channel}/stream?lastEventId=42`);
      await post(channel, { event: 'typing', data: 'a' }).expect(202);
      await stream.waitFor((client) => client.messages.some((message) => message.event === 'typing'));
      expect(stream.messages.map((message) => message.event)).toEqual(['typing']);
    });
  });
});

describe('namespaces at start, for the chat and in /asyncapi.json', () => {
  it('refuses a namespace with public: false without a JWT key or AUTH_HOOK_URL', async () => {
    const path = writeChannelsConfig({ namespaces: [{ pattern: 'inbox.*', public: false }] });
    await expect(startTestServer('memory', { CHANNELS_CONFIG: path })).rejects.toThrow(/CHANNELS_CONFIG=.*namespaces\[0\].*public: false.*JWT_SECRET/);
  });

  it('checks the chat /post against the chat namespace before storing', async () => {
    const chatSchema = { type: 'object', properties: { text: { type: 'string', maxLength: 5 } } };
    const server = await startTestServer('memory', {
      CHANNELS_CONFIG: writeChannelsConfig({ namespaces: [{ pattern: 'chat', strict: true, events: { message: chatSchema } }] }),
    });
    try {
      const refused = await request(server.url).post('/post').type('form').send({ message: 'far too long' }).expect(400);
      const error = (refused.body as { error: { code: string; details: Array<{ path: string }> } }).error;
      expect(error.code).toBe('invalid_data');
      expect(error.details).toEqual([expect.objectContaining({ path: '/text' })]);
      expect(((await request(server.url).get('/channels/chat/events').expect(200)).body as { events: unknown[] }).events).toEqual([]);
      await request(server.url).post('/post').set('Accept', 'application/json').type('json').send({ message: 'hi' }).expect(201);
    } finally {
      await server.close();
    }
  });

  it('serves GET /asyncapi.json publicly, built from the namespaces', async () => {
    const server = await startTestServer('memory', {
      CHANNELS_CONFIG: writeChannelsConfig(TEST_NAMESPACES),
      JWT_SECRET: 'a-test-secret-of-at-least-thirty-two-bytes!!',
      PUBLIC_CHANNELS: '',
    });
    try {
      const response = await request(server.url).get('/asyncapi.json').expect(200).expect('Content-Type', /application\/json/);
      const document = response.body as { asyncapi: string; info: { title: string; version: string }; channels: Record<string, { address: string }> };
      expect(document.asyncapi).toBe('3.0.0');
      expect(document.info.version).toBe(jest.requireActual<{ version: string }>('../../package.json').version);
      expect(Object.values(document.channels).map((channel) => channel.address)).toContain('typed.{segment2}');
    } finally {
      await server.close();
    }
  });
});

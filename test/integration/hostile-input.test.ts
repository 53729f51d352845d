import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { Redis } from 'ioredis';
import { SseClient } from '../helpers/sse-client';
import { BROKERS, startTestServer, testRedisUrl, type TestServer } from '../helpers/test-server';

const TOKEN = 's3cret';
const MAX_EVENT_BYTES = 1024;
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const JSON_TYPE = { 'Content-Type': 'application/json' };

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

interface RawRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers?: OutgoingHttpHeaders;
  /** One buffer is sent with Content-Length; several are sent chunked, without a length. */
  readonly body?: Buffer | Buffer[];
}

/** Sends exactly the bytes given (supertest would re-encode them), and reads the whole answer. */
function send(baseUrl: string, raw: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunked = Array.isArray(raw.body);
    const headers: OutgoingHttpHeaders = { Connection: 'close', ...raw.headers };
    if (chunked) headers['Transfer-Encoding'] = 'chunked';
    else if (raw.body) headers['Content-Length'] = raw.body.length;
    const req = httpRequest(`${baseUrl}${raw.path}`, { method: raw.method ?? 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    // The server may answer (413) and close before it read everything we write.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    if (Array.isArray(raw.body)) for (const chunk of raw.body) req.write(chunk);
    else if (raw.body) req.write(raw.body);
    req.end();
  });
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** A publish body of exactly `bytes` bytes. */
function bodyOfSize(bytes: number): Buffer {
  const overhead = json({ data: '' }).length;
  const body = json({ data: 'x'.repeat(bytes - overhead) });
  if (body.length !== bytes) throw new Error('size arithmetic');
  return body;
}

function split(buffer: Buffer, parts: number): Buffer[] {
  const size = Math.ceil(buffer.length / parts);
  return Array.from({ length: parts }, (_, index) => buffer.subarray(index * size, (index + 1) * size)).filter((chunk) => chunk.length > 0);
}

interface Row {
  readonly name: string;
  readonly request: (channel: string) => RawRequest;
  readonly status: number;
  readonly code: string;
}

const publishTo = (channel: string, body: Buffer | Buffer[], headers: OutgoingHttpHeaders = {}): RawRequest => ({
  path: `/channels/${channel}/events`,
  headers: { ...AUTH, ...JSON_TYPE, ...headers },
  body,
});

const publishToName = (name: string): RawRequest => publishTo(encodeURIComponent(name), json({ data: 1 }));
const streamOf = (name: string): RawRequest => ({ method: 'GET', path: `/channels/${encodeURIComponent(name)}/stream` });
const streamFrom = (channel: string, lastEventId: string): RawRequest => ({
  method: 'GET',
  path: `/channels/${channel}/stream`,
  headers: { 'Last-Event-ID': lastEventId },
});

const ROWS: Row[] = [
  { name: 'a body that is not JSON', request: (c) => publishTo(c, Buffer.from('{"data": 1')), status: 400, code: 'invalid_json' },
  { name: 'an empty JSON body', request: (c) => publishTo(c, Buffer.alloc(0)), status: 400, code: 'invalid_json' },
  {
    name: 'invalid UTF-8 inside a JSON string',
    request: (c) => publishTo(c, Buffer.concat([Buffer.from('{"data":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])),
    status: 400,
    code: 'invalid_json',
  },
  { name: 'a JSON array', request: (c) => publishTo(c, json([{ data: 1 }])), status: 400, code: 'invalid_event' },
  { name: 'a JSON string', request: (c) => publishTo(c, json('data')), status: 400, code: 'invalid_event' },
  { name: 'JSON null', request: (c) => publishTo(c, json(null)), status: 400, code: 'invalid_event' },
  { name: 'an object without data', request: (c) => publishTo(c, json({ event: 'message' })), status: 400, code: 'invalid_event' },
  { name: 'an unknown field', request: (c) => publishTo(c, json({ data: 1, id: '999' })), status: 400, code: 'invalid_event' },
  { name: 'a numeric event name', request: (c) => publishTo(c, json({ event: 7, data: 1 })), status: 400, code: 'invalid_event' },
  { name: 'an empty event name', request: (c) => publishTo(c, json({ event: '', data: 1 })), status: 400, code: 'invalid_event' },
  { name: 'a reserved hub. event name', request: (c) => publishTo(c, json({ event: 'hub.x', data: 1 })), status: 400, code: 'invalid_event' },
  {
    name: 'an event name with a newline',
    request: (c) => publishTo(c, json({ event: 'x\ndata: injected', data: 1 })),
    status: 400,
    code: 'invalid_event',
  },
  { name: 'an event name with colon-space', request: (c) => publishTo(c, json({ event: 'x: y', data: 1 })), status: 400, code: 'invalid_event' },
  {
    name: 'a body one byte over MAX_EVENT_BYTES with Content-Length',
    request: (c) => publishTo(c, bodyOfSize(MAX_EVENT_BYTES + 1)),
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'a chunked body over MAX_EVENT_BYTES without a length',
    request: (c) => publishTo(c, split(bodyOfSize(MAX_EVENT_BYTES * 3), 6)),
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'a chunked body one byte over MAX_EVENT_BYTES',
    request: (c) => publishTo(c, split(bodyOfSize(MAX_EVENT_BYTES + 1), 4)),
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'a text/plain body',
    request: (c) => publishTo(c, json({ data: 1 }), { 'Content-Type': 'text/plain' }),
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'a body without a Content-Type',
    request: (c) => ({ path: `/channels/${c}/events`, headers: AUTH, body: json({ data: 1 }) }),
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'a form body on the publish route',
    request: (c) => publishTo(c, Buffer.from('data=1'), { 'Content-Type': 'application/x-www-form-urlencoded' }),
    status: 415,
    code: 'unsupported_media_type',
  },
  { name: 'a publish channel with a newline', request: () => publishToName('a\nb'), status: 400, code: 'invalid_channel' },
  { name: 'a publish channel with colon-space', request: () => publishToName('a: b'), status: 400, code: 'invalid_channel' },
  { name: 'a publish channel of 65 characters', request: () => publishToName('c'.repeat(65)), status: 400, code: 'invalid_channel' },
  { name: 'a publish channel with bad characters', request: () => publishToName('a<b>"{x}'), status: 400, code: 'invalid_channel' },
  { name: 'a publish channel with a slash', request: () => publishToName('a/b'), status: 400, code: 'invalid_channel' },
  { name: 'a publish channel with a NUL', request: () => publishToName('a\u0000b'), status: 400, code: 'invalid_channel' },
  { name: 'a publish channel of 10 kB', request: () => publishToName('c'.repeat(10_240)), status: 400, code: 'invalid_channel' },
  {
    name: 'a publish channel with broken percent-encoding',
    request: () => ({ path: '/channels/%E0%A4%A/events', headers: { ...AUTH, ...JSON_TYPE }, body: json({ data: 1 }) }),
    status: 400,
    code: 'invalid_channel',
  },
  {
    name: 'a stream channel with broken percent-encoding',
    request: () => ({ method: 'GET', path: '/channels/%FF/stream' }),
    status: 400,
    code: 'invalid_channel',
  },
  { name: 'a stream channel with a newline', request: () => streamOf('a\r\nb'), status: 400, code: 'invalid_channel' },
  { name: 'a stream channel of 65 characters', request: () => streamOf('s'.repeat(65)), status: 400, code: 'invalid_channel' },
  { name: 'a negative Last-Event-ID', request: (c) => streamFrom(c, '-1'), status: 400, code: 'invalid_last_event_id' },
  { name: 'a fractional Last-Event-ID', request: (c) => streamFrom(c, '1.5'), status: 400, code: 'invalid_last_event_id' },
  { name: 'a 17-digit Last-Event-ID', request: (c) => streamFrom(c, '12345678901234567'), status: 400, code: 'invalid_last_event_id' },
  { name: 'a 10 kB Last-Event-ID', request: (c) => streamFrom(c, '9'.repeat(10_240)), status: 400, code: 'invalid_last_event_id' },
  {
    name: 'a 10 kB lastEventId query parameter',
    request: (c) => ({ method: 'GET', path: `/channels/${c}/stream?lastEventId=${'1'.repeat(10_240)}` }),
    status: 400,
    code: 'invalid_last_event_id',
  },
  {
    name: 'a publish without a token',
    request: (c) => ({ path: `/channels/${c}/events`, headers: JSON_TYPE, body: json({ data: 1 }) }),
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'a publish with an empty bearer token',
    request: (c) => publishTo(c, json({ data: 1 }), { Authorization: 'Bearer ' }),
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'a publish with a wrong token',
    request: (c) => publishTo(c, json({ data: 1 }), { Authorization: `Bearer ${TOKEN}x` }),
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'a publish with the token in another scheme',
    request: (c) => publishTo(c, json({ data: 1 }), { Authorization: `Basic ${TOKEN}` }),
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'a cross-site login',
    request: () => ({ path: '/login', headers: { ...JSON_TYPE, Origin: 'https://evil.example' }, body: json({ name: 'mallory' }) }),
    status: 403,
    code: 'cross_site',
  },
  {
    name: 'a cross-site logout',
    request: () => ({ path: '/logout', headers: { ...JSON_TYPE, Origin: 'https://evil.example' }, body: json({}) }),
    status: 403,
    code: 'cross_site',
  },
  {
    name: 'a cross-site chat post',
    request: () => ({ path: '/post', headers: { ...JSON_TYPE, Origin: 'https://evil.example' }, body: json({ message: 'spam' }) }),
    status: 403,
    code: 'cross_site',
  },
  {
    name: 'a chat post over MAX_EVENT_BYTES, chunked',
    request: () => ({ path: '/post', headers: JSON_TYPE, body: split(json({ message: 'm'.repeat(MAX_EVENT_BYTES) }), 5) }),
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'a login over MAX_EVENT_BYTES with Content-Length',
    request: () => ({ path: '/login', headers: JSON_TYPE, body: json({ name: 'n'.repeat(MAX_EVENT_BYTES) }) }),
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'a chat post with invalid UTF-8',
    request: () => ({
      path: '/post',
      headers: JSON_TYPE,
      body: Buffer.concat([Buffer.from('{"message":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    }),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'a login with a text/plain body',
    request: () => ({ path: '/login', headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('name=x') }),
    status: 415,
    code: 'unsupported_media_type',
  },
];

/** Every key under the server's prefix with its serialized value, to prove nothing was written. */
async function snapshot(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const keys = await redis.keys(`${prefix}*`);
  const entries = await Promise.all(keys.map(async (key) => [key, (await redis.dump(key)) ?? ''] as const));
  return new Map(entries);
}

describe.each(BROKERS)('hostile input on the %s broker', (broker) => {
  let server: TestServer;
  let redis: Redis;
  let watcher: SseClient;

  beforeAll(async () => {
    server = await startTestServer(broker, { PUBLISH_TOKEN: TOKEN, MAX_EVENT_BYTES: String(MAX_EVENT_BYTES) });
    redis = new Redis(testRedisUrl(), { lazyConnect: true });
    await redis.connect();
    watcher = await SseClient.open(`${server.url}/channels/alive/stream`);
  });
  afterAll(async () => {
    watcher.close();
    await server.close();
    await redis.quit();
  });

  const publishAlive = async (): Promise<string> => {
    const response = await send(server.url, publishTo('alive', json({ data: 'still here' })));
    expect(response.status).toBe(201);
    return (JSON.parse(response.text) as { id: string }).id;
  };

  it.each(ROWS.map((row, index) => ({ ...row, index })))(
    'answers $name with $status $code, writes nothing and keeps serving',
    async ({ request, status, code, index }) => {
      const channel = `hostile-${index}`;
      const before = await snapshot(redis, server.config.redisPrefix);

      const response = await send(server.url, request(channel));
      expect(response.status).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const body = JSON.parse(response.text) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(typeof body.error.message).toBe('string');

      expect(await snapshot(redis, server.config.redisPrefix)).toEqual(before);
      expect((await server.broker.history(channel, { limit: 10 })).events).toEqual([]);

      const id = await publishAlive();
      await watcher.waitFor((client) => client.messages.some((message) => message.id === id));
      expect(watcher.ended).toBe(false);
    },
  );

  it('accepts a body of exactly MAX_EVENT_BYTES, with Content-Length and chunked', async () => {
    const exact = bodyOfSize(MAX_EVENT_BYTES);
    const withLength = await send(server.url, publishTo('exact', exact));
    expect(withLength.status).toBe(201);
    const chunked = await send(server.url, publishTo('exact', split(exact, 4)));
    expect(chunked.status).toBe(201);
    const sent = JSON.stringify((JSON.parse(exact.toString()) as { data: string }).data);
    const page = await server.broker.history('exact', { limit: 10 });
    expect(page.events.map((event) => event.dataJson)).toEqual([sent, sent]);
  });

  it('accepts a publish with the right token', async () => {
    const response = await send(server.url, publishTo('with-token', json({ data: 'ok' }), { Authorization: `Bearer ${TOKEN}` }));
    expect(response.status).toBe(201);
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  it('asks for a Bearer token when refusing a publish', async () => {
    const response = await send(server.url, { path: '/channels/no-token/events', headers: JSON_TYPE, body: json({ data: 1 }) });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('does not ask for the token to stream or read history', async () => {
    const history = await send(server.url, { method: 'GET', path: '/channels/alive/events' });
    expect(history.status).toBe(200);
    const stream = await SseClient.open(`${server.url}/channels/alive/stream`);
    stream.close();
    expect(stream.response?.statusCode).toBe(200);
  });
});

import request from 'supertest';
import { SseClient } from '../helpers/sse-client';
import { BROKERS, startTestServer, type TestServer } from '../helpers/test-server';

const ALLOWED = 'https://ok.example';
const ALSO_ALLOWED = 'http://localhost:8080';
const OTHER = 'https://evil.example';
const TOKEN = 's3cret';

describe.each(BROKERS)('CORS and the publish token on the %s broker', (broker) => {
  let server: TestServer;
  const clients: SseClient[] = [];

  beforeAll(async () => {
    server = await startTestServer(broker, { CORS_ORIGINS: `${ALLOWED}, ${ALSO_ALLOWED}`, PUBLISH_TOKEN: TOKEN });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await server.close();
  });

  const expectCorsFor = (headers: Record<string, unknown>, origin: string): void => {
    expect(headers['access-control-allow-origin']).toBe(origin);
    expect(headers['access-control-allow-credentials']).toBe('true');
    expect(String(headers.vary)).toMatch(/Origin/i);
  };
  const expectNoCors = (headers: Record<string, unknown>): void => {
    expect(Object.keys(headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  };

  it('allows a listed origin to stream, with credentials', async () => {
    const client = await SseClient.open(`${server.url}/channels/cors/stream`, { Origin: ALLOWED });
    clients.push(client);
    expect(client.response?.statusCode).toBe(200);
    expectCorsFor(client.response!.headers, ALLOWED);
  });

  it('allows every listed origin, each with its own value', async () => {
    const client = await SseClient.open(`${server.url}/channels/cors/stream`, { Origin: ALSO_ALLOWED });
    clients.push(client);
    expectCorsFor(client.response!.headers, ALSO_ALLOWED);
  });

  it('allows a listed origin to read history and to publish', async () => {
    const history = await request(server.url).get('/channels/cors/events').set('Origin', ALLOWED).expect(200);
    expectCorsFor(history.headers, ALLOWED);
    const publish = await request(server.url)
      .post('/channels/cors/events')
      .set('Origin', ALLOWED)
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({ data: 'cross-origin' })
      .expect(201);
    expectCorsFor(publish.headers, ALLOWED);
  });

  it('keeps the CORS headers on an error answer, so the page can read the error', async () => {
    const response = await request(server.url).get('/channels/cors/events?limit=0').set('Origin', ALLOWED);
    expect(response.status).toBe(400);
    expectCorsFor(response.headers, ALLOWED);
  });

  it('answers a preflight from a listed origin allowing Content-Type, Authorization, Idempotency-Key and Last-Event-ID', async () => {
    const response = await request(server.url)
      .options('/channels/cors/events')
      .set('Origin', ALLOWED)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type, authorization, idempotency-key, last-event-id');
    expect(response.status).toBeLessThan(300);
    expectCorsFor(response.headers, ALLOWED);
    const allowed = String(response.headers['access-control-allow-headers'])
      .split(',')
      .map((name) => name.trim().toLowerCase());
    expect(allowed).toEqual(expect.arrayContaining(['content-type', 'authorization', 'idempotency-key', 'last-event-id']));
    expect(String(response.headers['access-control-allow-methods'])).toMatch(/POST/);
  });

  it('answers a preflight for the stream route from a listed origin', async () => {
    const response = await request(server.url)
      .options('/channels/cors/stream')
      .set('Origin', ALLOWED)
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'last-event-id');
    expect(response.status).toBeLessThan(300);
    expectCorsFor(response.headers, ALLOWED);
    expect(String(response.headers['access-control-allow-headers']).toLowerCase()).toMatch(/last-event-id/);
  });

  it.each([OTHER, 'https://ok.example.evil.example', 'http://ok.example', 'https://ok.example:444', 'null'])(
    'gives no CORS headers to the unlisted origin %s',
    async (origin) => {
      const client = await SseClient.open(`${server.url}/channels/cors/stream`, { Origin: origin });
      clients.push(client);
      expectNoCors(client.response!.headers);
      const history = await request(server.url).get('/channels/cors/events').set('Origin', origin).expect(200);
      expectNoCors(history.headers);
      const preflight = await request(server.url)
        .options('/channels/cors/events')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type, authorization');
      expectNoCors(preflight.headers);
    },
  );

  it('gives no CORS headers to a request without Origin', async () => {
    const history = await request(server.url).get('/channels/cors/events').expect(200);
    expectNoCors(history.headers);
  });

  it('publishes only with Authorization: Bearer <PUBLISH_TOKEN>', async () => {
    const post = (authorization?: string) => {
      const pending = request(server.url).post('/channels/token/events');
      if (authorization !== undefined) pending.set('Authorization', authorization);
      return pending.send({ data: 1 });
    };
    for (const authorization of [undefined, '', 'Bearer', `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}0`, `Bearer ${TOKEN.toUpperCase()}`, `Basic ${TOKEN}`, TOKEN, `Bearer x${TOKEN}`]) {
      const response = await post(authorization);
      expect([authorization, response.status]).toEqual([authorization, 401]);
      expect((response.body as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    const history = await request(server.url).get('/channels/token/events').expect(200);
    expect(history.body).toEqual({ events: [], more: false });

    await post(`Bearer ${TOKEN}`).expect(201);
    await post(`bearer ${TOKEN}`).expect(201);
  });

  it('does not require the token to stream or read history', async () => {
    const client = await SseClient.open(`${server.url}/channels/token-free/stream`);
    clients.push(client);
    expect(client.response?.statusCode).toBe(200);
    await request(server.url).get('/channels/token-free/events').expect(200);
  });
});

describe('without CORS_ORIGINS', () => {
  it('gives no CORS headers to any origin', async () => {
    const server = await startTestServer('memory');
    try {
      const response = await request(server.url).get('/channels/x/events').set('Origin', ALLOWED).expect(200);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await request(server.url).options('/channels/x/events').set('Origin', ALLOWED).set('Access-Control-Request-Method', 'POST');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(preflight.headers['access-control-allow-headers']).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('publishes without a token when PUBLISH_TOKEN is unset', async () => {
    const server = await startTestServer('memory');
    try {
      await request(server.url).post('/channels/open/events').send({ data: 1 }).expect(201);
    } finally {
      await server.close();
    }
  });
});

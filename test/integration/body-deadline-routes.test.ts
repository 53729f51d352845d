import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly setCookie: readonly string[];
}

/**
 * POSTs `body` one byte every 100 ms (far slower than the server's 300 ms BODY_TIMEOUT_MS) and
 * resolves with the answer; the trickle stops when the answer comes or the connection ends.
 */
function trickle(url: string, type: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const bytes = Buffer.from(body);
    let timer: NodeJS.Timeout | undefined;
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-type': type, 'content-length': bytes.length } }, (res) => {
      clearTimeout(timer);
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown, setCookie: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    let index = 0;
    const next = (): void => {
      if (req.destroyed || index >= bytes.length) return;
      req.write(bytes.subarray(index, ++index));
      timer = setTimeout(next, 100);
    };
    next();
  });
}

const TIMED_OUT = { error: { code: 'request_timeout', message: expect.any(String) as string } };

describe('BODY_TIMEOUT_MS on every route that reads a body', () => {
  let server: Server;

  beforeAll(async () => {
    server = await startTestServer('memory', { BODY_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers a publish whose body trickles past the deadline with 408 and stores nothing', async () => {
    const answer = await trickle(`${server.url}/channels/slow/events`, 'application/json', JSON.stringify({ data: 'x'.repeat(30) }));
    expect(answer).toMatchObject({ status: 408, body: TIMED_OUT });
    expect((await request(server.url).get('/channels/slow/events').expect(200)).body).toEqual({ events: [], more: false });
  });

  it('answers a /login whose body trickles past the deadline with 408 and sets no session', async () => {
    const answer = await trickle(`${server.url}/login`, 'application/json', JSON.stringify({ name: 'ada-lovelace-the-first' }));
    expect(answer).toMatchObject({ status: 408, body: TIMED_OUT });
    expect(answer.setCookie).toEqual([]);
  });

  it('answers a /login form whose body trickles past the deadline with 408', async () => {
    const answer = await trickle(`${server.url}/login`, 'application/x-www-form-urlencoded', 'name=ada-lovelace-the-first');
    expect(answer).toMatchObject({ status: 408, body: TIMED_OUT });
  });

  it('answers a /post whose body trickles past the deadline with 408 and publishes nothing', async () => {
    const answer = await trickle(`${server.url}/post`, 'application/json', JSON.stringify({ message: 'hello from a slow client' }));
    expect(answer).toMatchObject({ status: 408, body: TIMED_OUT });
    expect((await request(server.url).get('/channels/chat/events').expect(200)).body).toEqual({ events: [], more: false });
  });

  it('answers a /logout whose body trickles past the deadline with 408', async () => {
    const answer = await trickle(`${server.url}/logout`, 'application/json', JSON.stringify({ bye: 'for now, see you later' }));
    expect(answer).toMatchObject({ status: 408, body: TIMED_OUT });
  });

  it('still serves a body that arrives in time on the same routes', async () => {
    await request(server.url).post('/post').send({ message: 'on time' }).expect(201);
    await request(server.url).post('/login').send({ name: 'ada' }).expect(200);
    await request(server.url).post('/channels/fast/events').send({ data: 1 }).expect(201);
  });
});

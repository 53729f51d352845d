import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { makeKey, signToken } from '../helpers/access-tokens';
import { startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

interface HeadAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly bodyBytes: number;
}

/** A real `HEAD` over node:http, resolved once the response has ended (it must end by itself). */
function head(url: string, headers: Record<string, string> = {}): Promise<HeadAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'HEAD', headers, agent: false }, (res) => {
      let bodyBytes = 0;
      res.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bodyBytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HEAD on the stream routes', () => {
  const key = makeKey('HS256');
  let server: Server;

  beforeAll(async () => {
    server = await startTestServer('memory', { ...key.env, PUBLIC_CHANNELS: 'chat,public.*' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ['GET /channels/:channel/stream', '/channels/public.news/stream'],
    ['GET /stream (the chat)', '/stream'],
    ['GET /channels/chat/stream', '/channels/chat/stream'],
    ['GET /streams', '/streams?channel=public.a&channel=public.b'],
  ])('answers %s with the event-stream headers, no body, and ends, registering no stream', async (_label, path) => {
    const answer = await head(`${server.url}${path}`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(answer.headers['cache-control']).toBe('no-cache, no-transform');
    expect(answer.headers['x-accel-buffering']).toBe('no');
    expect(answer.bodyBytes).toBe(0);
    expect(server.hub.clientCount).toBe(0);
  });

  it.each([
    ['GET /channels/:channel/stream', '/channels/secret/stream'],
    ['GET /streams', '/streams?channel=public.a&channel=secret'],
  ])('answers %s of a private channel without a credential with the 401 JSON headers a GET gets', async (_label, path) => {
    const answer = await head(`${server.url}${path}`);
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(answer.bodyBytes).toBe(0);
  });

  it('answers a private channel with a token that grants it with 200 and the event-stream headers', async () => {
    const token = await signToken(key, { subscribe: ['secret'] }, { sub: 'ada' });
    const answer = await head(`${server.url}/channels/secret/stream`, { authorization: `Bearer ${token}` });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(server.hub.clientCount).toBe(0);
  });

  it('answers an invalid resume point with the 400 a GET gets', async () => {
    const answer = await head(`${server.url}/channels/public.news/stream`, { 'last-event-id': 'x' });
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('answers the history route with its JSON headers and no body', async () => {
    const answer = await head(`${server.url}/channels/public.news/events`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.bodyBytes).toBe(0);
  });
});

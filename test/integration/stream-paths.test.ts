import { request as httpRequest } from 'node:http';
import { makeKey, signToken } from '../helpers/access-tokens';
import { BROKERS, startTestServer, type TestServer } from '../helpers/test-server';

const ALLOWED = 'https://app.example';
const OTHER = 'https://other.example';

interface Answer {
  readonly status: number;
  /** The error body, or for an open stream the text of its first chunk. */
  readonly body: unknown;
  readonly headers: Record<string, string | undefined>;
}

interface Attempt {
  /** After `/channels/`: the channel and anything after it (`/stream`, a query). */
  readonly target: string;
  readonly headers?: Record<string, string>;
}

/** Headers whose values must agree between the two paths (CORS headers are Koa's own). */
const COMPARED_HEADERS = ['content-type', 'cache-control', 'x-accel-buffering', 'www-authenticate', 'connection', 'vary'];

/**
 * A raw GET, so that nothing adds or normalises a header or the path. `koa` upper-cases the
 * fixed parts of the path: the router ignores case, the request listener does not, so the same
 * request is then served by Koa's route instead of straight from Node's request.
 */
function get(server: TestServer, attempt: Attempt, via: 'direct' | 'koa', origin?: string): Promise<Answer> {
  // `streams?…` is GET /streams; anything else a channel's stream.
  const [channel, rest] = attempt.target.split('/stream') as [string, string];
  const several = attempt.target.startsWith('streams?');
  const path = several
    ? `/${via === 'koa' ? 'STREAMS' : 'streams'}${attempt.target.slice('streams'.length)}`
    : via === 'koa'
      ? `/CHANNELS/${channel}/STREAM${rest}`
      : `/channels/${channel}/stream${rest}`;
  return new Promise((resolve, reject) => {
    // Host and port apart from the path: a URL would drop a `#` the test means to send.
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path, headers: { ...(origin === undefined ? {} : { Origin: origin }), ...attempt.headers } }, (res) => {
      const headers = Object.fromEntries(COMPARED_HEADERS.map((name) => [name, res.headers[name] as string | undefined]));
      const answer = (body: unknown): void => resolve({ status: res.statusCode ?? 0, body, headers });
      if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        res.once('data', (chunk: Buffer) => {
          answer(chunk.toString());
          req.destroy();
        });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => answer(JSON.parse(Buffer.concat(chunks).toString()) as unknown));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(BROKERS)('a channel stream answered without Koa and through Koa (%s broker)', (broker) => {
  let server: TestServer;
  const key = makeKey('HS256');
  let granted: string;
  let otherGrant: string;

  beforeAll(async () => {
    server = await startTestServer(broker, { ...key.env, CORS_ORIGINS: ALLOWED, PUBLIC_CHANNELS: 'open.*' });
    granted = await signToken(key, { subscribe: ['priv.*'] }, { sub: 'alice' });
    otherGrant = await signToken(key, { subscribe: ['elsewhere'] });
  });
  afterAll(() => server.close());

  const auth = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
  const cases: Array<[string, () => Attempt]> = [
    ['a public channel', () => ({ target: 'open.a/stream' })],
    ['a public channel, resumed by header', () => ({ target: 'open.a/stream', headers: { 'Last-Event-ID': '0' } })],
    ['a public channel, resumed by query', () => ({ target: 'open.a/stream?lastEventId=0' })],
    ['a private channel with a granted token', () => ({ target: 'priv.a/stream', headers: auth(granted) })],
    ['a private channel with the token as cookie', () => ({ target: 'priv.a/stream', headers: { Cookie: `other=1; ssehub_token=${granted}` } })],
    ['a private channel without a credential', () => ({ target: 'priv.a/stream' })],
    ['a wrong bearer', () => ({ target: 'priv.a/stream', headers: auth('nope') })],
    ['a non-Bearer Authorization', () => ({ target: 'open.a/stream', headers: { Authorization: 'Basic abc' } })],
    ['a token without the grant', () => ({ target: 'priv.a/stream', headers: auth(otherGrant) })],
    ['an unknown ticket', () => ({ target: 'priv.a/stream?ticket=nope' })],
    ['a repeated ticket', () => ({ target: 'priv.a/stream?ticket=a&ticket=b' })],
    ['an invalid Last-Event-ID', () => ({ target: 'open.a/stream', headers: { 'Last-Event-ID': 'abc' } })],
    ['a repeated lastEventId', () => ({ target: 'open.a/stream?lastEventId=1&lastEventId=2' })],
    ['an invalid channel', () => ({ target: 'bad%20name/stream' })],
    ['a doubled question mark', () => ({ target: 'open.a/stream??lastEventId=abc' })],
    ['a fragment after the query', () => ({ target: 'open.a/stream?lastEventId=abc#frag' })],
    ['a fragment after a valid resume point', () => ({ target: 'open.a/stream?lastEventId=0#frag' })],
    ['more than a thousand parameters', () => ({ target: `open.a/stream?${Array.from({ length: 1001 }, (_, n) => `x${n}=1`).join('&')}&lastEventId=abc` })],
    ['a plus and escapes in the query', () => ({ target: 'priv.a/stream?ticket=a+b%2Fc' })],
    ['several public channels', () => ({ target: 'streams?channel=open.a&channel=open.b' })],
    ['several channels, resumed by cursor', () => ({ target: 'streams?channel=open.a&channel=open.b', headers: { 'Last-Event-ID': 'open.a=0,open.b=0' } })],
    ['several channels with a private one and a token', () => ({ target: 'streams?channel=open.a&channel=priv.a', headers: auth(granted) })],
    ['several channels with a private one and no credential', () => ({ target: 'streams?channel=open.a&channel=priv.a' })],
    ['several channels, the private one not granted', () => ({ target: 'streams?channel=open.a&channel=priv.b', headers: auth(otherGrant) })],
    ['no channel named', () => ({ target: 'streams?' })],
    ['an invalid channel among several', () => ({ target: 'streams?channel=open.a&channel=bad%20name' })],
    ['more channels than MAX_STREAM_CHANNELS', () => ({ target: `streams?${Array.from({ length: 17 }, (_, n) => `channel=open.${n}`).join('&')}` })],
    ['an invalid cursor', () => ({ target: 'streams?channel=open.a&lastEventId=open.a=x' })],
    ['a repeated lastEventId on several channels', () => ({ target: 'streams?channel=open.a&lastEventId=a&lastEventId=b' })],
  ];

  it.each(cases)('answers %s the same way on both paths', async (_name, attempt) => {
    const direct = await get(server, attempt(), 'direct');
    const throughKoa = await get(server, attempt(), 'koa');
    expect(throughKoa).toEqual(direct);
    expect(direct.headers.vary).toBe('Origin');
    // An Origin that CORS_ORIGINS does not list stays on the direct path; a listed one goes
    // through Koa (CORS); a request without a cookie answers the same to both.
    if (attempt().headers?.Cookie === undefined) {
      expect(await get(server, attempt(), 'direct', OTHER)).toEqual(direct);
      expect(await get(server, attempt(), 'direct', ALLOWED)).toEqual(direct);
    }
  });

  it('serves a redeemed ticket on the direct path, and refuses it when another site sends the cookie', async () => {
    const { ticket } = (await (await fetch(`${server.url}/tickets`, { method: 'POST', headers: auth(granted) })).json()) as { ticket: string };
    const answer = await get(server, { target: `priv.a/stream?ticket=${ticket}` }, 'direct');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const crossSite = await get(server, { target: 'priv.a/stream', headers: { Cookie: `ssehub_token=${granted}` } }, 'direct', OTHER);
    expect(crossSite).toMatchObject({ status: 403, body: { error: { code: 'cross_site' } } });
  });
});

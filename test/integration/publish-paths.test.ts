import { request as httpRequest } from 'node:http';
import { makeKey, signToken } from '../helpers/access-tokens';
import { BROKERS, startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const PUBLISH_TOKEN = 'static-publisher-secret';
const ALLOWED = 'https://app.example';
const OTHER = 'https://other.example';

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string | undefined>;
}

interface Attempt {
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** Headers whose values must agree between the two paths (CORS headers are Koa's own). */
const COMPARED_HEADERS = ['content-type', 'content-length', 'www-authenticate', 'connection', 'vary'];

/** A raw POST, so that nothing (fetch, supertest) adds or normalises a header or the path. */
function post(server: Server, attempt: Attempt, origin: string | undefined): Promise<Answer> {
  const body = attempt.body ?? JSON.stringify({ event: 'note', data: { n: 1 } });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${server.url}${attempt.path ?? '/channels/paths/events'}`,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(body)),
          ...(origin === undefined ? {} : { Origin: origin }),
          ...attempt.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          const headers = Object.fromEntries(COMPARED_HEADERS.map((name) => [name, res.headers[name] as string | undefined]));
          // The ids differ between two stored publishes; everything else must not.
          const parsed = JSON.parse(text) as Record<string, unknown>;
          if (typeof parsed.id === 'string') parsed.id = '<id>';
          resolve({ status: res.statusCode ?? 0, body: parsed, headers: { ...headers, 'content-length': parsed.id === '<id>' ? '<length>' : headers['content-length'] } });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe.each(BROKERS)('a publish answered without Koa and through Koa (%s broker)', (broker) => {
  let server: Server;
  const key = makeKey('HS256');
  let granted: string;
  let otherGrant: string;

  beforeAll(async () => {
    server = await startTestServer(broker, { ...key.env, PUBLISH_TOKEN, CORS_ORIGINS: ALLOWED, MAX_EVENT_BYTES: '64' });
    granted = await signToken(key, { publish: ['paths'] });
    otherGrant = await signToken(key, { publish: ['elsewhere'] });
  });
  afterAll(() => server.close());

  const auth = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
  const cases: Array<[string, () => Attempt]> = [
    ['stored with PUBLISH_TOKEN', () => ({ headers: auth(PUBLISH_TOKEN) })],
    ['stored with a granted token', () => ({ headers: auth(granted) })],
    ['no credential', () => ({})],
    ['a wrong bearer', () => ({ headers: auth('nope') })],
    ['a non-Bearer Authorization', () => ({ headers: { Authorization: 'Basic abc' } })],
    ['a token without the grant', () => ({ headers: auth(otherGrant) })],
    ['an invalid channel', () => ({ path: '/channels/bad%20name/events', headers: auth(PUBLISH_TOKEN) })],
    ['an undecodable channel', () => ({ path: '/channels/%E0%A4%A/events', headers: auth(PUBLISH_TOKEN) })],
    ['a bad Idempotency-Key', () => ({ headers: { ...auth(PUBLISH_TOKEN), 'Idempotency-Key': 'x'.repeat(129) } })],
    ['the wrong Content-Type', () => ({ headers: { ...auth(PUBLISH_TOKEN), 'Content-Type': 'text/plain' } })],
    ['a body that is not JSON', () => ({ headers: auth(PUBLISH_TOKEN), body: '{"data":' })],
    ['an unknown field', () => ({ headers: auth(PUBLISH_TOKEN), body: '{"data":1,"x":2}' })],
    ['a body over MAX_EVENT_BYTES', () => ({ headers: auth(PUBLISH_TOKEN), body: JSON.stringify({ data: 'x'.repeat(100) }) })],
    ['a query string', () => ({ path: '/channels/paths/events?token=secret', headers: auth(PUBLISH_TOKEN) })],
    ['upper-case path (the router ignores case)', () => ({ path: '/CHANNELS/paths/EVENTS', headers: auth(PUBLISH_TOKEN) })],
    ['a trailing slash', () => ({ path: '/channels/paths/events/', headers: auth(PUBLISH_TOKEN) })],
  ];

  it.each(cases)('answers %s the same way on both paths', async (_name, attempt) => {
    const withoutKoa = await post(server, attempt(), undefined);
    const unlistedOrigin = await post(server, attempt(), OTHER);
    const throughKoa = await post(server, attempt(), ALLOWED);
    expect(unlistedOrigin).toEqual(withoutKoa);
    expect(throughKoa).toEqual(withoutKoa);
    expect(withoutKoa.headers.vary).toBe('Origin');
  });

  it('stores each accepted publish once, whichever path served it', async () => {
    const before = (await (await fetch(`${server.url}/channels/once/events?limit=1000`)).json()) as { events: unknown[] };
    const body = JSON.stringify({ data: 1 });
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${PUBLISH_TOKEN}`, 'Idempotency-Key': 'same-key' };
    const first = await fetch(`${server.url}/channels/once/events`, { method: 'POST', headers, body });
    const again = await fetch(`${server.url}/channels/once/events`, { method: 'POST', headers: { ...headers, Origin: ALLOWED }, body });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(((await again.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
    const after = (await (await fetch(`${server.url}/channels/once/events?limit=1000`)).json()) as { events: unknown[] };
    expect(after.events.length - before.events.length).toBe(1);
  });
});

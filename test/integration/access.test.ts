import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { hs256WithText, KEY_KINDS, makeKey, signToken, signWith, unsignedToken, type Grants, type TestKey } from '../helpers/access-tokens';
import { bearer, readChannel, READ_ROUTES, tokenCookie, type ReadRoute } from '../helpers/read-request';
import { BROKERS, startTestServer, type TestServer } from '../helpers/test-server';

const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'ssehub';
const claims = { issuer: ISSUER, audience: AUDIENCE };

describe.each(BROKERS)('who may read, through real requests (%s broker)', (broker) => {
  let server: TestServer;
  const key = makeKey('HS256');

  beforeAll(async () => {
    server = await startTestServer(broker, { ...key.env, PUBLIC_CHANNELS: 'chat,news.*' });
  });
  afterAll(() => server.close());

  // [grant (undefined = no token), sub, channel, expected status]
  const table: Array<[grant: Grants | undefined, sub: string | undefined, channel: string, status: number]> = [
    [undefined, undefined, 'chat', 200],
    [undefined, undefined, 'news.eu', 200],
    [undefined, undefined, 'news', 401],
    [undefined, undefined, 'news.eu.x', 401],
    [undefined, undefined, 'orders.eu', 401],
    [{}, undefined, 'chat', 200],
    [{}, undefined, 'orders.eu', 403],
    [{ subscribe: [] }, undefined, 'orders.eu', 403],
    [{ subscribe: ['orders.*'] }, undefined, 'orders.eu', 200],
    [{ subscribe: ['orders.*'] }, undefined, 'orders', 403],
    [{ subscribe: ['orders.*'] }, undefined, 'orders.eu.x', 403],
    [{ subscribe: ['orders.*'] }, undefined, 'news.eu', 200],
    [{ subscribe: ['room.**'] }, undefined, 'room.a', 200],
    [{ subscribe: ['room.**'] }, undefined, 'room.a.b', 200],
    [{ subscribe: ['room.**'] }, undefined, 'room', 403],
    [{ subscribe: ['user.{sub}.*'] }, '42', 'user.42.inbox', 200],
    [{ subscribe: ['user.{sub}.*'] }, '42', 'user.43.inbox', 403],
    [{ subscribe: ['user.{sub}.*'] }, undefined, 'user.42.inbox', 403],
    [{ subscribe: ['**'] }, undefined, 'any.thing.at.all', 200],
    [{ subscribe: ['a', 'b.*', 'c.**'] }, undefined, 'c.d.e', 200],
    [{ publish: ['orders.*'] }, undefined, 'orders.eu', 403],
  ];

  it.each(READ_ROUTES)('answers every row of the grant table on the %s route', async (route) => {
    const outcomes = await Promise.all(
      table.map(async ([grant, sub, channel]) => {
        const headers = grant === undefined ? {} : bearer(await signToken(key, grant, { sub }));
        return (await readChannel(server.url, route, channel, { headers })).status;
      }),
    );
    expect(table.map((row, index) => [...row, outcomes[index]])).toEqual(table.map((row) => [...row, row[3]]));
  });

  it.each(READ_ROUTES)('refuses a private channel without a credential on the %s route: 401, WWW-Authenticate: Bearer, JSON error', async (route) => {
    const outcome = await readChannel(server.url, route, 'orders.eu');
    expect(outcome).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer', errorCode: 'unauthorized' });
    expect(outcome.contentType).toMatch(/^application\/json/);
    expect(outcome.errorMessage).toContain('orders.eu');
  });

  it.each(READ_ROUTES)('refuses a channel the token does not grant on the %s route: 403 forbidden naming the channel', async (route) => {
    const token = await signToken(key, { subscribe: ['orders.*'] });
    const outcome = await readChannel(server.url, route, 'private.room', { headers: bearer(token) });
    expect(outcome).toMatchObject({ status: 403, errorCode: 'forbidden', wwwAuthenticate: null });
    expect(outcome.contentType).toMatch(/^application\/json/);
    expect(outcome.errorMessage).toContain('"private.room"');
  });

  it('delivers the private channel events to the granted stream and history', async () => {
    const token = await signToken(key, { subscribe: ['orders.*'], publish: ['orders.*'] });
    const published = await fetch(`${server.url}/channels/orders.delivered/events`, {
      method: 'POST',
      headers: { ...bearer(token), 'Content-Type': 'application/json' },
      body: JSON.stringify({ data: { sku: 'A1' } }),
    });
    expect(published.status).toBe(201);
    const history = await fetch(`${server.url}/channels/orders.delivered/events`, { headers: bearer(token) });
    expect(((await history.json()) as { events: unknown[] }).events).toEqual([{ id: expect.any(String) as string, event: 'message', data: { sku: 'A1' } }]);
  });
});

describe.each(KEY_KINDS)('access tokens verified with a %s key', (kind) => {
  let server: TestServer;
  let key: TestKey;
  // Another key of the same kind: a token it signed has a well-formed but wrong signature.
  let otherKey: TestKey;

  beforeAll(async () => {
    key = makeKey(kind);
    otherKey = makeKey(kind);
    server = await startTestServer('memory', { ...key.env, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, PUBLIC_CHANNELS: 'public.*' });
  });
  afterAll(() => server.close());

  it('accepts a token signed with the configured key, on public and private channels', async () => {
    const token = await signToken(key, { subscribe: ['private.*'] }, claims);
    for (const route of READ_ROUTES) {
      expect((await readChannel(server.url, route, 'private.a', { headers: bearer(token) })).status).toBe(200);
      expect((await readChannel(server.url, route, 'public.a', { headers: bearer(token) })).status).toBe(200);
    }
  });

  const grant: Grants = { subscribe: ['**'] };
  const invalidTokens: Array<[what: string, reason: string, make: () => Promise<string> | string]> = [
    ['a bad signature', 'signature does not verify', () => signToken(otherKey, grant, claims)],
    ['a tampered payload', 'signature does not verify', async () => {
      const [header, , signature] = (await signToken(key, { subscribe: ['x'] }, claims)).split('.');
      return `${header}.${Buffer.from(JSON.stringify({ ssehub: grant, exp: 9_999_999_999, iss: ISSUER, aud: AUDIENCE })).toString('base64url')}.${signature}`;
    }],
    ['an expired token', 'has expired', () => signToken(key, grant, { ...claims, expiresInS: -10 })],
    ['alg: none', 'algorithm', () => unsignedToken(grant, claims)],
    ['no exp', '"exp"', () => signToken(key, grant, { ...claims, noExp: true })],
    ['a wrong iss', '"iss"', () => signToken(key, grant, { ...claims, issuer: 'https://evil.example.com' })],
    ['no iss', '"iss"', () => signToken(key, grant, { audience: AUDIENCE })],
    ['a wrong aud', '"aud"', () => signToken(key, grant, { ...claims, audience: 'another-service' })],
    ['garbage', 'not a JWT', () => 'garbage'],
    ['three dots of garbage', 'malformed', () => 'a.b.c'],
    ['base64 of a JSON that is not a JWT', 'malformed', () => `${Buffer.from('{}').toString('base64url')}.${Buffer.from('[]').toString('base64url')}.x`],
    ['a token of another algorithm', 'algorithm', () =>
      kind === 'HS256'
        ? signWith(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256', grant, claims)
        : signWith(new TextEncoder().encode(randomBytes(48).toString('hex')), 'HS256', grant, claims)],
    ['a malformed pattern in the grant', '** may only be the last segment', () => signToken(key, { subscribe: ['public.a', 'orders.**.x'] }, claims)],
    ['a grant that is not a list', 'must be a list', () => signToken(key, { subscribe: 'orders.*' as unknown as string[] }, claims)],
    ['65 patterns in one list', 'more than 64', () => signToken(key, { subscribe: Array.from({ length: 65 }, (_, index) => `c${index}`) }, claims)],
    ['an info object over 1 KB', 'larger than 1024', () => signToken(key, { info: { name: 'x'.repeat(1100) } }, claims)],
    ['an info that is not an object', '"ssehub.info" must be an object', () => signToken(key, { info: ['a'] as unknown as Record<string, unknown> }, claims)],
    ['an ssehub claim that is not an object', '"ssehub" must be an object', () => signToken(key, undefined, { ...claims, claims: { ssehub: 'all' } })],
    ['a sub that is not a string', '"sub" must be a string', () => signToken(key, grant, { ...claims, claims: { sub: 42 as unknown as string } })],
  ];
  if (kind !== 'HS256') {
    invalidTokens.push(['HS256 signed with the public key PEM text (key confusion)', 'algorithm', () =>
      hs256WithText(key.publicPem, { ssehub: grant, exp: Math.floor(Date.now() / 1000) + 300, iss: ISSUER, aud: AUDIENCE })]);
  }

  it.each(invalidTokens)('refuses %s (%s) with 401 invalid_token, on a public channel too, by header and by cookie', async (_what, reason, make) => {
    const token = await make();
    const outcomes: Array<[ReadRoute, string, string, number, string | null, string | null, boolean]> = [];
    for (const route of READ_ROUTES) {
      for (const channel of ['public.a', 'private.a']) {
        for (const [carrier, headers] of [['header', bearer(token)], ['cookie', tokenCookie(token)]] as const) {
          const outcome = await readChannel(server.url, route, channel, { headers });
          outcomes.push([route, channel, carrier, outcome.status, outcome.errorCode, outcome.wwwAuthenticate, outcome.errorMessage?.includes(reason) ?? false]);
        }
      }
    }
    expect(outcomes).toEqual(outcomes.map(([route, channel, carrier]) => [route, channel, carrier, 401, 'unauthorized', 'Bearer error="invalid_token"', true]));
  });
});

describe.each(BROKERS)('where a reader credential comes from, and which one wins (%s broker)', (broker) => {
  let server: TestServer;
  const key = makeKey('HS256');
  let granting: string;
  let notGranting: string;
  let invalid: string;

  beforeAll(async () => {
    server = await startTestServer(broker, { ...key.env, PUBLIC_CHANNELS: 'chat' });
    granting = await signToken(key, { subscribe: ['secret.*'] });
    notGranting = await signToken(key, { subscribe: ['other.*'] });
    invalid = await signToken(makeKey('HS256'), { subscribe: ['secret.*'] });
  });
  afterAll(() => server.close());

  async function ticketFor(token: string): Promise<string> {
    const response = await fetch(`${server.url}/tickets`, { method: 'POST', headers: bearer(token) });
    expect(response.status).toBe(201);
    return ((await response.json()) as { ticket: string }).ticket;
  }

  it('accepts each carrier alone: header, ticket, cookie', async () => {
    const ticket = await ticketFor(granting);
    for (const route of READ_ROUTES) {
      expect((await readChannel(server.url, route, 'secret.a', { headers: bearer(granting) })).status).toBe(200);
      expect((await readChannel(server.url, route, 'secret.a', { query: `ticket=${ticket}` })).status).toBe(200);
      expect((await readChannel(server.url, route, 'secret.a', { headers: tokenCookie(granting) })).status).toBe(200);
    }
  });

  it('uses the header before the ticket and the ticket before the cookie, and never falls back from an invalid one', async () => {
    const grantingTicket = await ticketFor(granting);
    const otherTicket = await ticketFor(notGranting);
    const rows: Array<[what: string, headers: Record<string, string>, query: string, status: number]> = [
      ['header grants, ticket does not', bearer(granting), `ticket=${otherTicket}`, 200],
      ['header does not grant, ticket does', bearer(notGranting), `ticket=${grantingTicket}`, 403],
      ['header invalid, ticket grants', bearer(invalid), `ticket=${grantingTicket}`, 401],
      ['header grants, cookie does not', { ...bearer(granting), ...tokenCookie(notGranting) }, '', 200],
      ['header does not grant, cookie does', { ...bearer(notGranting), ...tokenCookie(granting) }, '', 403],
      ['header invalid, cookie grants', { ...bearer(invalid), ...tokenCookie(granting) }, '', 401],
      ['header grants, cookie invalid', { ...bearer(granting), ...tokenCookie(invalid) }, '', 200],
      ['ticket grants, cookie does not', tokenCookie(notGranting), `ticket=${grantingTicket}`, 200],
      ['ticket does not grant, cookie does', tokenCookie(granting), `ticket=${otherTicket}`, 403],
      ['ticket unknown, cookie grants', tokenCookie(granting), `ticket=${'A'.repeat(43)}`, 401],
      ['ticket malformed, cookie grants', tokenCookie(granting), 'ticket=nope', 401],
      ['ticket grants, cookie invalid', tokenCookie(invalid), `ticket=${grantingTicket}`, 200],
      ['two tickets', {}, `ticket=${grantingTicket}&ticket=${grantingTicket}`, 401],
      ['an empty ticket counts as absent, cookie grants', tokenCookie(granting), 'ticket=', 200],
      ['Authorization that is not Bearer, cookie grants', { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}`, ...tokenCookie(granting) }, '', 401],
      ['a token in the query is never read', {}, `token=${granting}&access_token=${granting}`, 401],
    ];
    for (const route of READ_ROUTES) {
      const outcomes = await Promise.all(rows.map(async ([, headers, query]) => (await readChannel(server.url, route, 'secret.a', { headers, query })).status));
      expect(rows.map(([what], index) => [route, what, outcomes[index]])).toEqual(rows.map(([what, , , status]) => [route, what, status]));
    }
  });

  it('refuses an invalid credential of any carrier on a public channel, with error="invalid_token"', async () => {
    for (const route of READ_ROUTES) {
      for (const options of [{ headers: bearer(invalid) }, { headers: tokenCookie(invalid) }, { query: `ticket=${'B'.repeat(43)}` }]) {
        expect(await readChannel(server.url, route, 'chat', options)).toMatchObject({
          status: 401,
          errorCode: 'unauthorized',
          wwwAuthenticate: 'Bearer error="invalid_token"',
        });
      }
    }
  });

  it('serves the chat stream (GET /stream) to anyone when chat is public', async () => {
    const abort = new AbortController();
    const response = await fetch(`${server.url}/stream`, { signal: abort.signal });
    expect(response.status).toBe(200);
    abort.abort();
  });
});

describe('without a configured key', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('memory');
  });
  afterAll(() => server.close());

  it('serves every channel to anyone and ignores credentials (no key to check them with)', async () => {
    for (const route of READ_ROUTES) {
      expect((await readChannel(server.url, route, 'orders.eu')).status).toBe(200);
      expect((await readChannel(server.url, route, 'orders.eu', { headers: bearer('whatever'), query: 'ticket=x' })).status).toBe(200);
    }
  });
});

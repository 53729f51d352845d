import { makeKey, signToken } from '../helpers/access-tokens';
import { bearer, tokenCookie } from '../helpers/read-request';
import { BROKERS, startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const PUBLISH_TOKEN = 'static-publisher-secret';

interface PublishOutcome {
  readonly status: number;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly wwwAuthenticate: string | null;
}

async function publish(server: Server, channel: string, headers: Record<string, string> = {}, query = ''): Promise<PublishOutcome> {
  const response = await fetch(`${server.url}/channels/${channel}/events${query}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ data: { n: 1 } }),
  });
  const body = (await response.json()) as { error?: { code: string; message: string } };
  return {
    status: response.status,
    errorCode: body.error?.code ?? null,
    errorMessage: body.error?.message ?? null,
    wwwAuthenticate: response.headers.get('www-authenticate'),
  };
}

describe.each(BROKERS)('publishing with a key and PUBLISH_TOKEN configured (%s broker)', (broker) => {
  let server: Server;
  const key = makeKey('HS256');

  beforeAll(async () => {
    server = await startTestServer(broker, { ...key.env, PUBLISH_TOKEN, PUBLIC_CHANNELS: 'chat' });
  });
  afterAll(() => server.close());

  it('still accepts PUBLISH_TOKEN on any channel', async () => {
    expect((await publish(server, 'anything.at.all', bearer(PUBLISH_TOKEN))).status).toBe(201);
  });

  it('accepts a token whose publish grant matches the channel, and refuses others with 403 naming the channel', async () => {
    const token = await signToken(key, { publish: ['orders.*', 'user.{sub}.outbox'] }, { sub: '7' });
    const rows: Array<[channel: string, status: number]> = [
      ['orders.eu', 201],
      ['orders', 403],
      ['orders.eu.x', 403],
      ['user.7.outbox', 201],
      ['user.8.outbox', 403],
      ['chat', 403],
    ];
    const outcomes = await Promise.all(rows.map(async ([channel]) => (await publish(server, channel, bearer(token))).status));
    expect(rows.map(([channel], index) => [channel, outcomes[index]])).toEqual(rows);
    const refused = await publish(server, 'orders', bearer(token));
    expect(refused).toMatchObject({ errorCode: 'forbidden', wwwAuthenticate: null });
    expect(refused.errorMessage).toContain('"orders"');
  });

  it('does not take a subscribe grant as a publish grant', async () => {
    const token = await signToken(key, { subscribe: ['orders.*'] });
    expect(await publish(server, 'orders.eu', bearer(token))).toMatchObject({ status: 403, errorCode: 'forbidden' });
  });

  it('refuses without Authorization: 401 with WWW-Authenticate: Bearer', async () => {
    expect(await publish(server, 'orders.eu')).toMatchObject({ status: 401, errorCode: 'unauthorized', wwwAuthenticate: 'Bearer' });
  });

  it('refuses a bearer that is neither PUBLISH_TOKEN nor a valid token: 401 with error="invalid_token"', async () => {
    const expired = await signToken(key, { publish: ['**'] }, { expiresInS: -5 });
    const foreign = await signToken(makeKey('HS256'), { publish: ['**'] });
    for (const credential of ['nope', `${PUBLISH_TOKEN}x`, expired, foreign]) {
      expect(await publish(server, 'orders.eu', bearer(credential))).toMatchObject({
        status: 401,
        errorCode: 'unauthorized',
        wwwAuthenticate: 'Bearer error="invalid_token"',
      });
    }
  });

  it('never takes a publish credential from a cookie or a ticket (they would allow cross-site posts)', async () => {
    const token = await signToken(key, { publish: ['**'], subscribe: ['**'] });
    const ticketResponse = await fetch(`${server.url}/tickets`, { method: 'POST', headers: bearer(token) });
    const { ticket } = (await ticketResponse.json()) as { ticket: string };
    expect(await publish(server, 'orders.eu', tokenCookie(token))).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer' });
    expect(await publish(server, 'orders.eu', tokenCookie(PUBLISH_TOKEN))).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer' });
    expect(await publish(server, 'orders.eu', {}, `?ticket=${ticket}`)).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer' });
  });

  it('takes PUBLISH_TOKEN on a read as a valid credential that grants no reading: public channels 200, private 403', async () => {
    const read = async (channel: string): Promise<number> => (await fetch(`${server.url}/channels/${channel}/events`, { headers: bearer(PUBLISH_TOKEN) })).status;
    expect(await read('chat')).toBe(200);
    expect(await read('orders.eu')).toBe(403);
  });

  it('leaves the chat /post open to its visitors', async () => {
    const response = await fetch(`${server.url}/post`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'hello' }),
    });
    expect(response.status).toBe(201);
  });
});

describe('publishing with a key and no PUBLISH_TOKEN', () => {
  let server: Server;
  const key = makeKey('ES256');

  beforeAll(async () => {
    server = await startTestServer('memory', key.env);
  });
  afterAll(() => server.close());

  it('needs a token with a publish grant (every channel is public to read, not to write)', async () => {
    const token = await signToken(key, { publish: ['news.*'] });
    expect(await publish(server, 'news.eu')).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer' });
    expect((await publish(server, 'news.eu', bearer(token))).status).toBe(201);
    expect((await publish(server, 'sports.eu', bearer(token))).status).toBe(403);
  });
});

describe('publishing with PUBLISH_TOKEN and no key', () => {
  let server: Server;

  beforeAll(async () => {
    server = await startTestServer('memory', { PUBLISH_TOKEN });
  });
  afterAll(() => server.close());

  it('accepts PUBLISH_TOKEN and refuses any other bearer with error="invalid_token"', async () => {
    expect((await publish(server, 'x', bearer(PUBLISH_TOKEN))).status).toBe(201);
    expect(await publish(server, 'x', bearer('a.b.c'))).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer error="invalid_token"' });
    expect(await publish(server, 'x')).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer' });
  });
});

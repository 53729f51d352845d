import { Redis } from 'ioredis';
import { makeKey, signToken } from '../helpers/access-tokens';
import { waitForPresence } from '../helpers/presence';
import { bearer, readChannel } from '../helpers/read-request';
import { SseClient } from '../helpers/sse-client';
import { BROKERS, startTestServer, testRedisUrl, uniquePrefix } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

interface TicketAnswer {
  readonly status: number;
  readonly body: { ticket?: string; expiresAt?: string; error?: { code: string } };
  readonly retryAfter: string | null;
}

async function postTicket(server: { url: string }, token: string): Promise<TicketAnswer> {
  const response = await fetch(`${server.url}/tickets`, { method: 'POST', headers: bearer(token) });
  return { status: response.status, body: (await response.json()) as TicketAnswer['body'], retryAfter: response.headers.get('retry-after') };
}

describe.each(BROKERS)('TICKETS_PER_MINUTE (%s broker)', (broker) => {
  const key = makeKey('EdDSA');
  let servers: Server[];

  beforeAll(async () => {
    // On Redis, two instances of one deployment: the count is shared, not per instance.
    const env = { ...key.env, PUBLIC_CHANNELS: '', REDIS_PREFIX: uniquePrefix() };
    servers = broker === 'redis' ? await Promise.all([startTestServer(broker, env), startTestServer(broker, env)]) : [await startTestServer(broker, env)];
  });
  afterAll(() => Promise.all(servers.map((server) => server.close())));

  const instance = (n: number): Server => servers[n % servers.length]!;

  it('gives one sub 60 tickets a minute across instances, then 429 too_many_requests with Retry-After in seconds', async () => {
    // A fresh token for each ticket: the limit follows the sub, not the token.
    for (let n = 0; n < 60; n++) {
      const answer = await postTicket(instance(n), await signToken(key, { subscribe: ['a.*'] }, { sub: 'burst' }));
      expect(answer.status).toBe(201);
    }
    const refused = await postTicket(instance(60), await signToken(key, { subscribe: ['a.*'] }, { sub: 'burst' }));
    expect(refused.status).toBe(429);
    expect(refused.body.error?.code).toBe('too_many_requests');
    expect(refused.body.ticket).toBeUndefined();
    expect(refused.retryAfter).toMatch(/^[0-9]+$/);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect((await postTicket(instance(61), await signToken(key, {}, { sub: 'burst' }))).status).toBe(429);
    // Another sub is not affected.
    expect((await postTicket(instance(0), await signToken(key, {}, { sub: 'someone-else' }))).status).toBe(201);
  });

  it('counts a token without a sub by itself', async () => {
    const token = await signToken(key, { subscribe: ['a.*'] });
    for (let n = 0; n < 60; n++) expect((await postTicket(instance(n), token)).status).toBe(201);
    const refused = await postTicket(instance(60), token);
    expect([refused.status, refused.body.error?.code]).toEqual([429, 'too_many_requests']);
    // Signed in the same second with the same claims, a token would be the same text: vary one.
    expect((await postTicket(instance(0), await signToken(key, { subscribe: ['a.*'] }, { claims: { jti: 'another' } }))).status).toBe(201);
  });
});

describe('what Redis holds for a ticket', () => {
  const key = makeKey('HS256');
  const prefix = uniquePrefix();
  let server: Server;
  let redis: Redis;

  beforeAll(async () => {
    server = await startTestServer('redis', { ...key.env, PUBLIC_CHANNELS: '', PRESENCE_CHANNELS: 'room.*', REDIS_PREFIX: prefix, TICKET_TTL_S: '120' });
    redis = new Redis(testRedisUrl());
  });
  afterAll(async () => {
    redis.disconnect();
    await server.close();
  });

  /** Every key under the test's prefix with its value as text. */
  async function dump(): Promise<Map<string, string>> {
    const values = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const name of keys) {
        const type = await redis.type(name);
        if (type === 'string') values.set(name, (await redis.get(name)) ?? '');
        else if (type === 'hash') values.set(name, JSON.stringify(await redis.hgetall(name)));
        else if (type === 'list') values.set(name, JSON.stringify(await redis.lrange(name, 0, -1)));
        else if (type === 'zset') values.set(name, JSON.stringify(await redis.zrange(name, '0', '-1')));
        else values.set(name, type);
      }
    } while (cursor !== '0');
    return values;
  }

  it('holds no token, only the grants, and the ticket still acts with them (grants, presence sub and info, expiry)', async () => {
    const patterns = ['room.*', ...Array.from({ length: 63 }, (_, n) => `area${n}.*`)];
    const token = await signToken(key, { subscribe: patterns, info: { name: 'Scanned' } }, { sub: 'u-scan', expiresInS: 90, claims: { jti: 'jti-1' } });
    const issued = [await postTicket(server, token), await postTicket(server, token)];
    for (const answer of issued) expect(answer.status).toBe(201);

    const values = await dump();
    const ticketKeys = [...values.keys()].filter((name) => name.startsWith(`${prefix}ticket:`));
    expect(ticketKeys).toHaveLength(2);
    for (const [name, value] of values) {
      expect(`${name} ${value}`).not.toContain('eyJ');
      expect(value).not.toContain(token.split('.')[2]!);
      expect(value).not.toContain(token.split('.')[1]!);
    }
    for (const name of ticketKeys) {
      const stored = JSON.parse(values.get(name)!) as Record<string, unknown>;
      expect(stored).toMatchObject({ sub: 'u-scan', subscribe: patterns, info: { name: 'Scanned' }, jti: 'jti-1', issuedAtMs: expect.any(Number) as number });
      expect(Buffer.byteLength(values.get(name)!)).toBeLessThan(token.length);
    }
    // The ticket ends with its token (exp in 90 s, before TICKET_TTL_S).
    const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    expect(Date.parse(issued[0]!.body.expiresAt!)).toBe(exp * 1000);

    const ticket = issued[0]!.body.ticket!;
    expect(await readChannel(server.url, 'history', 'area5.x', { query: `ticket=${ticket}` })).toMatchObject({ status: 200 });
    expect(await readChannel(server.url, 'history', 'elsewhere.x', { query: `ticket=${ticket}` })).toMatchObject({ status: 403, errorCode: 'forbidden' });
    const stream = await SseClient.open(`${server.url}/channels/room.a/stream?ticket=${ticket}`);
    try {
      expect(stream.response?.statusCode).toBe(200);
      const presence = await waitForPresence(server.url, (body) => body.members.length === 1, 'room.a', 10_000, bearer(token));
      expect(presence.members).toEqual([{ sub: 'u-scan', info: { name: 'Scanned' }, connections: 1 }]);
    } finally {
      stream.close();
    }
  });
});

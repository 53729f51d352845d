import { Writable } from 'node:stream';
import pino from 'pino';
import { startServer } from '../../src/server';
import { makeKey, signToken } from '../helpers/access-tokens';
import { startRedisServer } from '../helpers/redis-server';
import { bearer, readChannel, READ_ROUTES, tokenCookie } from '../helpers/read-request';
import { SseClient } from '../helpers/sse-client';
import { BROKERS, startTestServer, testConfig, uniquePrefix } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

interface TicketAnswer {
  readonly status: number;
  readonly body: { ticket?: string; expiresAt?: string; error?: { code: string } };
  readonly headers: Headers;
}

async function postTicket(server: { url: string }, headers: Record<string, string> = {}): Promise<TicketAnswer> {
  const response = await fetch(`${server.url}/tickets`, { method: 'POST', headers });
  return { status: response.status, body: (await response.json()) as TicketAnswer['body'], headers: response.headers };
}

/** Resolves once the wall clock has passed `timeMs` (the effect a ticket's expiry waits for). */
function clockPasses(timeMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, timeMs - Date.now()) + 20));
}

describe('POST /tickets without a configured key', () => {
  it('answers 404 not_found', async () => {
    const server = await startTestServer('memory');
    try {
      const answer = await postTicket(server, bearer('anything'));
      expect(answer.status).toBe(404);
      expect(answer.body.error?.code).toBe('not_found');
    } finally {
      await server.close();
    }
  });
});

describe.each(BROKERS)('stream tickets (%s broker)', (broker) => {
  let server: Server;
  const key = makeKey('EdDSA');

  beforeAll(async () => {
    server = await startTestServer(broker, { ...key.env, PUBLIC_CHANNELS: '', TICKET_TTL_S: '120' });
  });
  afterAll(() => server.close());

  it('exchanges a bearer token for an opaque ticket of at least 128 random bits, never cached', async () => {
    const token = await signToken(key, { subscribe: ['orders.*'] });
    const before = Date.now();
    const answers = await Promise.all([postTicket(server, bearer(token)), postTicket(server, bearer(token))]);
    for (const answer of answers) {
      expect(answer.status).toBe(201);
      expect(Object.keys(answer.body).sort()).toEqual(['expiresAt', 'ticket']);
      expect(answer.body.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(answer.body.ticket!, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
      expect(answer.body.ticket).not.toContain(token);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      const expiresAt = Date.parse(answer.body.expiresAt!);
      expect(new Date(expiresAt).toISOString()).toBe(answer.body.expiresAt);
      expect(expiresAt).toBeGreaterThanOrEqual(before + 120_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
    }
    expect(answers[0].body.ticket).not.toBe(answers[1].body.ticket);
  });

  it('never outlives its token: expiresAt is the token exp when that comes first', async () => {
    const token = await signToken(key, {}, { expiresInS: 30 });
    const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    const answer = await postTicket(server, bearer(token));
    expect(Date.parse(answer.body.expiresAt!)).toBe(exp * 1000);
  });

  it('refuses to issue one without a valid bearer token (a cookie does not count)', async () => {
    const token = await signToken(key, {});
    expect(await postTicket(server)).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect((await postTicket(server)).headers.get('www-authenticate')).toBe('Bearer');
    const cookieOnly = await postTicket(server, tokenCookie(token));
    expect(cookieOnly.status).toBe(401);
    const expired = await postTicket(server, bearer(await signToken(key, {}, { expiresInS: -1 })));
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const foreign = await postTicket(server, bearer(await signToken(makeKey('EdDSA'), {})));
    expect(foreign.status).toBe(401);
  });

  it('acts with its token grants, as often as needed (a browser reconnect reuses it)', async () => {
    const token = await signToken(key, { subscribe: ['orders.*'] });
    const { ticket } = (await postTicket(server, bearer(token))).body;
    for (let attempt = 0; attempt < 3; attempt++) {
      for (const route of READ_ROUTES) {
        expect((await readChannel(server.url, route, 'orders.eu', { query: `ticket=${ticket}` })).status).toBe(200);
        expect(await readChannel(server.url, route, 'invoices.eu', { query: `ticket=${ticket}` })).toMatchObject({ status: 403, errorCode: 'forbidden' });
      }
    }
  });

  it('delivers live events on a stream opened with a ticket', async () => {
    const token = await signToken(key, { subscribe: ['orders.*'], publish: ['orders.*'] });
    const { ticket } = (await postTicket(server, bearer(token))).body;
    const client = await SseClient.open(`${server.url}/channels/orders.live/stream?ticket=${ticket}`);
    try {
      expect(client.response?.statusCode).toBe(200);
      await client.waitFor((sse) => sse.retries.length > 0);
      const published = await fetch(`${server.url}/channels/orders.live/events`, {
        method: 'POST',
        headers: { ...bearer(token), 'Content-Type': 'application/json' },
        body: JSON.stringify({ data: 'shipped' }),
      });
      expect(published.status).toBe(201);
      await client.waitFor((sse) => sse.messages.some((message) => message.data === '"shipped"'));
    } finally {
      client.close();
    }
  });

  it('ends a stream it opened at its own expiry (before the token), and is refused after it with 401 invalid_token', async () => {
    const shortLived = await startTestServer(broker, { ...key.env, PUBLIC_CHANNELS: '', TICKET_TTL_S: '1' });
    try {
      const token = await signToken(key, { subscribe: ['orders.*'] });
      const { ticket, expiresAt } = (await postTicket(shortLived, bearer(token))).body;
      expect((await readChannel(shortLived.url, 'history', 'orders.eu', { query: `ticket=${ticket}` })).status).toBe(200);
      const stream = await SseClient.open(`${shortLived.url}/channels/orders.eu/stream?ticket=${ticket!}`);
      expect(stream.response?.statusCode).toBe(200);
      await stream.waitForEnd(5000);
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt!) - 50);
      expect(stream.messages.map((message) => message.event)).toEqual(['hub.reauth']);
      await clockPasses(Date.parse(expiresAt!));
      for (const route of READ_ROUTES) {
        expect(await readChannel(shortLived.url, route, 'orders.eu', { query: `ticket=${ticket}` })).toMatchObject({
          status: 401,
          errorCode: 'unauthorized',
          wwwAuthenticate: 'Bearer error="invalid_token"',
        });
      }
    } finally {
      await shortLived.close();
    }
  });
});

describe('stream tickets across instances sharing one Redis', () => {
  it('a ticket issued by one instance opens streams and history on another', async () => {
    const key = makeKey('RS256');
    const env = { ...key.env, PUBLIC_CHANNELS: 'chat', REDIS_PREFIX: uniquePrefix() };
    const [first, second] = await Promise.all([startTestServer('redis', env), startTestServer('redis', env)]);
    try {
      const token = await signToken(key, { subscribe: ['user.{sub}.*'] }, { sub: 'u1' });
      const { ticket } = (await postTicket(first, bearer(token))).body;
      for (const route of READ_ROUTES) {
        expect((await readChannel(second.url, route, 'user.u1.inbox', { query: `ticket=${ticket}` })).status).toBe(200);
        expect((await readChannel(second.url, route, 'user.u2.inbox', { query: `ticket=${ticket}` })).status).toBe(403);
      }
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('a ticket of one deployment (REDIS_PREFIX) is unknown to another on the same Redis', async () => {
    const key = makeKey('HS256');
    const [first, second] = await Promise.all([
      startTestServer('redis', { ...key.env, PUBLIC_CHANNELS: '' }),
      startTestServer('redis', { ...key.env, PUBLIC_CHANNELS: '' }),
    ]);
    try {
      const { ticket } = (await postTicket(first, bearer(await signToken(key, { subscribe: ['**'] })))).body;
      expect((await readChannel(second.url, 'history', 'x', { query: `ticket=${ticket}` })).status).toBe(401);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe('stream tickets during a Redis outage', () => {
  it('answers 503 broker_unavailable to POST /tickets and history, and "retry later" to a stream, never 401 or 500', async () => {
    const redis = await startRedisServer();
    const key = makeKey('HS256');
    const server = await startTestServer('redis', { ...key.env, REDIS_URL: redis.url, PUBLIC_CHANNELS: '' });
    try {
      const token = await signToken(key, { subscribe: ['orders.*'] });
      const { ticket } = (await postTicket(server, bearer(token))).body;
      await redis.kill();
      // The broker notices within its ping timeout; await that, as /readyz reports it.
      const deadline = Date.now() + 5000;
      while ((await fetch(`${server.url}/readyz`)).status !== 503) {
        if (Date.now() > deadline) throw new Error('/readyz never answered 503');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const issued = await postTicket(server, bearer(token));
      expect([issued.status, issued.body.error?.code]).toEqual([503, 'broker_unavailable']);
      expect(await readChannel(server.url, 'history', 'orders.eu', { query: `ticket=${ticket!}` })).toMatchObject({ status: 503, errorCode: 'broker_unavailable' });
      const stream = await SseClient.open(`${server.url}/channels/orders.eu/stream?ticket=${ticket!}`);
      expect(stream.response?.statusCode).toBe(200);
      await stream.waitForEnd(5000);
      expect(stream.retries).toHaveLength(1);
      expect(stream.messages).toEqual([]);
    } finally {
      await server.close();
      await redis.stop();
    }
  });
});

/** Collects a logger's JSON lines and lets a test await one. */
class LogCollector extends Writable {
  text = '';
  private waiters: Array<() => void> = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    for (const waiter of [...this.waiters]) waiter();
    done();
  }

  waitFor(fragment: string, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line with ${fragment}; got ${this.text}`)), timeoutMs);
      const check = (): void => {
        if (!this.text.includes(fragment)) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      this.waiters.push(check);
      check();
    });
  }
}

describe('the request log', () => {
  it('never shows a ticket or a token, for accepted and refused requests', async () => {
    const key = makeKey('HS256');
    const logs = new LogCollector();
    const config = testConfig('redis', { ...key.env, PUBLIC_CHANNELS: '', LOG_LEVEL: 'debug' });
    const server = await startServer(config, pino({ level: 'debug' }, logs));
    try {
      const token = await signToken(key, { subscribe: ['logged.*'] });
      const { ticket } = (await postTicket(server, bearer(token))).body;
      const stream = await SseClient.open(`${server.url}/channels/logged.a/stream?ticket=${ticket!}`);
      await stream.waitFor((sse) => sse.retries.length > 0);
      stream.close();
      await readChannel(server.url, 'history', 'logged.a', { query: `ticket=${ticket!}&limit=5` });
      await readChannel(server.url, 'history', 'other.a', { query: `ticket=${ticket!}` });
      const unknownTicket = `${ticket!.slice(0, -1)}${ticket!.endsWith('A') ? 'B' : 'A'}`;
      await readChannel(server.url, 'stream', 'logged.a', { query: `ticket=${unknownTicket}`, headers: tokenCookie(token) });
      await readChannel(server.url, 'history', 'logged.a', { headers: bearer(token) });
      await logs.waitFor('"path":"/channels/logged.a/stream","status":200');
      await logs.waitFor('"path":"/channels/other.a/events","status":403');
      await logs.waitFor('"path":"/channels/logged.a/stream","status":401');
      await logs.waitFor('"path":"/tickets","status":201');
      expect(logs.text).not.toContain(ticket!);
      expect(logs.text).not.toContain(ticket!.slice(0, 16));
      expect(logs.text).not.toContain(unknownTicket);
      expect(logs.text).not.toContain(token.split('.')[2]!);
      expect(logs.text).not.toContain('ticket=');
    } finally {
      await server.close();
    }
  });
});

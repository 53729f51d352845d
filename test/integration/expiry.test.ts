import { createHook } from 'node:async_hooks';
import { makeKey, signToken } from '../helpers/access-tokens';
import { bearer, tokenCookie } from '../helpers/read-request';
import { SseClient, type SseMessage } from '../helpers/sse-client';
import { BROKERS, startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;
type Carrier = 'header' | 'cookie' | 'ticket';

// Timers may fire a little early against Date.now(); the end must not come noticeably before exp.
const EARLY_TOLERANCE_MS = 50;
// A token living 5-6 s (exp is in whole seconds): hub.reauth comes 2.5-3 s before its end, time
// enough for a publish and its delivery in between on a loaded machine (3 s left 1-1.5 s, and a
// CI run once missed it).
const EXPIRING_TOKEN_S = 6;

function expOf(token: string): number {
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;
}

describe.each(BROKERS)('a stream at its credential expiry (%s broker)', (broker) => {
  let server: Server;
  const key = makeKey('HS256');
  let publisher: string;

  beforeAll(async () => {
    server = await startTestServer(broker, { ...key.env, PUBLIC_CHANNELS: '' });
    publisher = await signToken(key, { publish: ['expiring.**'] }, { expiresInS: 600 });
  });
  afterAll(() => server.close());

  async function publish(channel: string, data: unknown): Promise<number> {
    const response = await fetch(`${server.url}/channels/${channel}/events`, {
      method: 'POST',
      headers: { ...bearer(publisher), 'Content-Type': 'application/json' },
      body: JSON.stringify({ data }),
    });
    expect(response.status).toBe(201);
    return Number(((await response.json()) as { id: string }).id);
  }

  /** The query and headers that carry `token` by `carrier` (a ticket is made for it first). */
  async function carry(carrier: Carrier, token: string): Promise<{ query: string; headers: Record<string, string> }> {
    if (carrier === 'header') return { query: '', headers: bearer(token) };
    if (carrier === 'cookie') return { query: '', headers: tokenCookie(token) };
    const response = await fetch(`${server.url}/tickets`, { method: 'POST', headers: bearer(token) });
    const { ticket, expiresAt } = (await response.json()) as { ticket: string; expiresAt: string };
    // A ticket never outlives its token (TICKET_TTL_S is 300 s here).
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(expOf(token));
    return { query: `ticket=${ticket}&`, headers: {} };
  }

  const events = (client: SseClient): SseMessage[] => client.messages.filter((message) => message.id !== undefined);

  it.each<Carrier>(['header', 'cookie', 'ticket'])(
    'by %s: hub.reauth before expiry, the end at expiry, then a renewed credential resumes exactly from the last id',
    async (carrier) => {
      const channel = `expiring.${carrier}`;
      const before = [await publish(channel, 1), await publish(channel, 2)];
      const token = await signToken(key, { subscribe: ['expiring.*'] }, { expiresInS: EXPIRING_TOKEN_S });
      const expiresAtMs = expOf(token);
      const first = await carry(carrier, token);
      const client = await SseClient.open(`${server.url}/channels/${channel}/stream?${first.query}lastEventId=0`, first.headers);
      expect(client.response?.statusCode).toBe(200);
      await client.waitFor((sse) => events(sse).length === 2, 5000, 'the replayed events');

      await client.waitFor((sse) => sse.messages.some((message) => message.event === 'hub.reauth'), 5000, 'hub.reauth');
      expect(Date.now()).toBeLessThan(expiresAtMs);
      const reauth = client.messages.find((message) => message.event === 'hub.reauth')!;
      expect(reauth.id).toBeUndefined();
      expect(JSON.parse(reauth.data)).toEqual({ expiresAt: new Date(expiresAtMs).toISOString() });

      // Still live between hub.reauth and the end.
      const during = await publish(channel, 3);
      await client.waitFor((sse) => events(sse).some((message) => Number(message.id) === during), 5000, 'the event after hub.reauth');

      await client.waitForEnd(5000);
      expect(Date.now()).toBeGreaterThanOrEqual(expiresAtMs - EARLY_TOLERANCE_MS);
      expect(Date.now()).toBeLessThan(expiresAtMs + 2000);
      const missed = [await publish(channel, 4), await publish(channel, 5)];

      // The old credential no longer opens the channel; a renewed one resumes from the last id.
      const stale = await fetch(`${server.url}/channels/${channel}/stream?${first.query}`, { headers: first.headers });
      expect(stale.status).toBe(401);
      expect(stale.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      await stale.body?.cancel();

      const renewed = await carry(carrier, await signToken(key, { subscribe: ['expiring.*'] }, { expiresInS: 600 }));
      const resumed = await SseClient.open(`${server.url}/channels/${channel}/stream?${renewed.query}`, {
        ...renewed.headers,
        'Last-Event-ID': client.lastEventId!,
      });
      try {
        await resumed.waitFor((sse) => events(sse).length >= 2, 5000, 'the missed events');
        expect(events(client).map((message) => Number(message.id))).toEqual([...before, during]);
        expect(events(resumed).map((message) => Number(message.id))).toEqual(missed);
        expect(resumed.messages.some((message) => message.event === 'hub.reauth' || message.event === 'hub.gap')).toBe(false);
      } finally {
        resumed.close();
      }
    },
  );

  it('GET /streams: the multi-channel stream ends at expiry too and resumes exactly from its cursor', async () => {
    const channels = ['expiring.multi-a', 'expiring.multi-b'];
    await publish(channels[0]!, 'a1');
    const token = await signToken(key, { subscribe: ['expiring.*'] }, { expiresInS: EXPIRING_TOKEN_S });
    const expiresAtMs = expOf(token);
    const query = channels.map((channel) => `channel=${channel}`).join('&');
    const client = await SseClient.open(`${server.url}/streams?${query}`, bearer(token));
    expect(client.response?.statusCode).toBe(200);
    await client.waitFor((sse) => sse.messages.some((message) => message.event === 'hub.reauth'), 5000, 'hub.reauth');
    const live = await publish(channels[1]!, 'b1');
    await client.waitFor((sse) => sse.messages.some((message) => message.data.includes('"b1"')), 5000, 'the live event');
    await client.waitForEnd(5000);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAtMs - EARLY_TOLERANCE_MS);
    const missed = await publish(channels[0]!, 'a2');

    const renewed = await signToken(key, { subscribe: ['expiring.*'] }, { expiresInS: 600 });
    const resumed = await SseClient.open(`${server.url}/streams?${query}`, { ...bearer(renewed), 'Last-Event-ID': client.lastEventId! });
    try {
      await resumed.waitFor((sse) => events(sse).length >= 1, 5000, 'the missed event');
      const envelopes = events(resumed).map((message) => JSON.parse(message.data) as { channel: string; id: string; data: unknown });
      expect(envelopes).toEqual([{ channel: channels[0], id: String(missed), data: 'a2' }]);
      expect(live).toBeGreaterThan(0);
    } finally {
      resumed.close();
    }
  });
});

describe('GET /streams authorization', () => {
  let server: Server;
  const key = makeKey('ES256');

  beforeAll(async () => {
    server = await startTestServer('memory', { ...key.env, PUBLIC_CHANNELS: 'news.*' });
  });
  afterAll(() => server.close());

  async function open(query: string, headers: Record<string, string> = {}): Promise<{ status: number; code: string | null; message: string | null }> {
    const abort = new AbortController();
    const response = await fetch(`${server.url}/streams?${query}`, { headers, signal: abort.signal });
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
      abort.abort();
      return { status: response.status, code: null, message: null };
    }
    const body = (await response.json()) as { error: { code: string; message: string } };
    return { status: response.status, code: body.error.code, message: body.error.message };
  }

  it('authorizes each channel as if streamed alone; one refused channel refuses the whole stream, naming it', async () => {
    const token = await signToken(key, { subscribe: ['user.{sub}.*'] }, { sub: 'u1' });
    expect((await open('channel=news.eu&channel=news.us')).status).toBe(200);
    expect(await open('channel=news.eu&channel=user.u1.inbox')).toMatchObject({ status: 401, code: 'unauthorized' });
    expect((await open('channel=news.eu&channel=user.u1.inbox', bearer(token))).status).toBe(200);
    const refused = await open('channel=user.u1.inbox&channel=user.u2.inbox', bearer(token));
    expect(refused).toMatchObject({ status: 403, code: 'forbidden' });
    expect(refused.message).toContain('"user.u2.inbox"');
    expect(await open('channel=news.eu', bearer('not-a-token'))).toMatchObject({ status: 401, code: 'unauthorized' });
  });
});

describe.each(BROKERS)('a stream whose credential lives longer than a timer can wait (%s broker)', (broker) => {
  let server: Server;
  const key = makeKey('HS256');
  const DAY_S = 24 * 60 * 60;

  beforeAll(async () => {
    server = await startTestServer(broker, { ...key.env, PUBLIC_CHANNELS: '' });
  });
  afterAll(() => server.close());

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Opens `channel` with `token`, checks it is served, closes it and waits for the hub to let go. */
  async function openAndClose(channel: string, token: string, whileOpen: () => Promise<void> | void): Promise<void> {
    const client = await SseClient.open(`${server.url}/channels/${channel}/stream`, bearer(token));
    try {
      expect(client.response?.statusCode).toBe(200);
      await client.waitFor((sse) => sse.retries.length > 0 && sse.lastEventId !== undefined, 5000, 'the retry line and position');
      await whileOpen();
    } finally {
      client.close();
    }
    await until(() => server.hub.clientCount === 0, 'the hub to release the stream');
  }

  /**
   * Timers created while idling for `ms`, and the process's CPU time meanwhile. A timer asked to
   * wait longer than 2^31-1 ms fires after 1 ms instead (with a TimeoutOverflowWarning, which a
   * jest test cannot listen to: its `process` is a copy): re-armed, that is a new Timeout every
   * millisecond; an idle process creates next to none. Not a speed check. The CPU time is shown
   * but not judged: helper threads (garbage collection, compilation) after earlier suites use
   * 150-250 ms of an idle second, about what such a spinning timer costs (146 ms measured).
   */
  async function idle(ms: number): Promise<{ timersCreated: number; cpuMs: number }> {
    let timersCreated = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === 'Timeout') timersCreated++;
      },
    }).enable();
    const cpuBefore = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, ms));
    hook.disable();
    const cpu = process.cpuUsage(cpuBefore);
    return { timersCreated, cpuMs: (cpu.user + cpu.system) / 1000 };
  }

  it('a 30-day token: the stream is served without a busy timer, and once it closes no deadline or timer is left', async () => {
    const token = await signToken(key, { subscribe: ['long.*'] }, { expiresInS: 30 * DAY_S });
    await openAndClose('long.month', token, async () => {
      expect(server.hub.deadlineCount).toBe(2);
      expect((await idle(300)).timersCreated).toBeLessThan(10);
    });
    expect(server.hub.deadlineCount).toBe(0);
    expect(server.hub.channelCount).toBe(0);
    const after = await idle(1000);
    process.stdout.write(`idle second after a 30-day token's stream closed (${broker}): ${after.timersCreated} timers created, process CPU ${after.cpuMs.toFixed(0)} ms\n`);
    expect(after.timersCreated).toBeLessThan(20);
  });

  it('exp 1e300 (past any date): the stream is served (200) with no deadline, and its close leaves no client', async () => {
    const token = await signToken(key, { subscribe: ['long.*'] }, { noExp: true, claims: { exp: 1e300 } });
    await openAndClose('long.forever', token, () => {
      expect(server.hub.clientCount).toBe(1);
      expect(server.hub.deadlineCount).toBe(0);
    });
    expect(server.hub.clientCount).toBe(0);
    expect(server.hub.channelCount).toBe(0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^ssehub_clients_connected 0$/m);
  });
});

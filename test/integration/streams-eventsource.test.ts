import { EventSource, type FetchLike } from 'eventsource';
import { followCursor, historyIds, parseCursor, publishEvent, streamsPath } from '../helpers/multi-stream';
import { TcpProxy } from '../helpers/tcp-proxy';
import { BROKERS, startTestServer, type TestServer } from '../helpers/test-server';

/** What the `eventsource` client dispatched: `event:` type, data and its lastEventId. */
interface Received {
  readonly event: string;
  readonly data: string;
  readonly id: string;
}

/**
 * The real `eventsource` client (v4) with everything it dispatched and every request it made,
 * awaitable. `fetch` is wrapped only to watch the bytes and headers, never to change them.
 */
class WatchedEventSource {
  readonly received: Received[] = [];
  readonly requestHeaders: Array<Record<string, string>> = [];
  /** The raw text of each response body, in request order. */
  readonly bodies: string[] = [];
  errors = 0;
  readonly source: EventSource;
  private waiters: Array<() => void> = [];

  constructor(url: string) {
    const watchingFetch: FetchLike = async (input, init) => {
      const index = this.requestHeaders.push({ ...(init?.headers as Record<string, string>) }) - 1;
      this.bodies.push('');
      this.notify();
      const response = await fetch(input, init);
      if (!response.body) return response;
      const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
      const decoder = new TextDecoder();
      const body = new ReadableStream<Uint8Array>({
        pull: async (controller) => {
          try {
            const { done, value } = await reader.read();
            if (done) return controller.close();
            this.bodies[index] += decoder.decode(value, { stream: true });
            controller.enqueue(value);
            this.notify();
          } catch (error) {
            controller.error(error);
          }
        },
        cancel: (reason) => reader.cancel(reason),
      });
      return { status: response.status, headers: response.headers, url: response.url, redirected: response.redirected, body };
    };
    this.source = new EventSource(url, { fetch: watchingFetch });
    this.source.addEventListener('message', (event) => {
      this.received.push({ event: 'message', data: String(event.data), id: event.lastEventId });
      this.notify();
    });
    this.source.addEventListener('hub.gap', (event) => {
      this.received.push({ event: 'hub.gap', data: String(event.data), id: event.lastEventId });
      this.notify();
    });
    this.source.addEventListener('error', () => {
      this.errors++;
      this.notify();
    });
  }

  waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out waiting for ${what}; ${this.received.length} events, ${this.requestHeaders.length} requests, ${this.errors} errors`));
      }, timeoutMs);
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  close(): void {
    this.source.close();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** The stream's opening position block: `id: <position>` right after `retry:`. */
function openingPosition(body: string): string | undefined {
  return /^retry: \d+\n\nid: ([^\n]*)\n\n/.exec(body)?.[1];
}

describe.each(BROKERS)('the real eventsource client on the %s broker', (broker) => {
  let server: TestServer;
  let proxy: TcpProxy;
  const sources: WatchedEventSource[] = [];

  beforeAll(async () => {
    server = await startTestServer(broker, { RETRY_MS: '20' });
    proxy = await TcpProxy.start(server.port);
  });
  afterEach(() => {
    for (const source of sources.splice(0)) source.close();
    proxy.restore();
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  it('reconnects by itself to /streams after cuts with its cursor as Last-Event-ID: every event of every channel once, in order', async () => {
    const channels = ['es.orders', 'es.inbox', 'es.news'];
    for (const channel of channels) await publishEvent(server.url, channel, 'before');
    const source = new WatchedEventSource(`${proxy.url}${streamsPath(channels)}&lastEventId=${channels.map((channel) => `${channel}=0`).join(',')}`);
    sources.push(source);
    let published = channels.length;
    await source.waitFor(() => source.received.length === published, 'the replayed events');

    for (let round = 0; round < 4; round++) {
      // Some events arrive live, then the connection is cut with more on their way.
      for (let n = 0; n < 9; n++) await publishEvent(server.url, channels[n % channels.length]!, { round, n, when: 'live' });
      published += 9;
      if (round % 2 === 0) await source.waitFor(() => source.received.length === published, `round ${round} live`);
      const requests = source.requestHeaders.length;
      const errors = source.errors;
      proxy.cut();
      // Published while the client is cut off: only the resume from its cursor can deliver them.
      for (let n = 0; n < 6; n++) await publishEvent(server.url, channels[n % channels.length]!, { round, n, when: 'cut' });
      published += 6;
      // It notices the cut and tries again (refused while the proxy refuses).
      await source.waitFor(() => source.errors > errors, `the client to notice cut ${round}`);
      proxy.restore();
      await source.waitFor(() => source.requestHeaders.length > requests && source.received.length >= published, `round ${round} after the cut`);
    }

    expect(source.received.filter((event) => event.event !== 'message')).toEqual([]);
    // Every event's id is the cursor with its own channel moved on, from the cursor it resumed from.
    const { byChannel } = followCursor(
      new Map(channels.map((channel) => [channel, 0])),
      source.received.map((event) => ({ id: event.id, event: event.event, data: event.data })),
    );
    for (const channel of channels) expect({ channel, ids: byChannel.get(channel) }).toEqual({ channel, ids: await historyIds(server.url, channel) });
    // Each reconnect sent the cursor of the last event it had dispatched, and the server's
    // opening block repeated it.
    const answered = source.requestHeaders.map((headers, index) => ({ headers, body: source.bodies[index]! })).filter(({ body }) => body !== '');
    expect(answered.length).toBeGreaterThanOrEqual(5);
    for (const { headers, body } of answered.slice(1)) {
      const sent = headers['Last-Event-ID'];
      expect(sent).toBeDefined();
      expect(parseCursor(sent!).size).toBe(channels.length);
      expect(openingPosition(body)).toBe(sent);
    }
  });

  it('resumes a /streams client that drops before its first event from the cursor in its URL: what was published meanwhile, once, in order', async () => {
    const channels = ['es.early.a', 'es.early.b'];
    const older = await publishEvent(server.url, channels[0]!, 'before the stream');
    const start = `${channels[0]}=${older},${channels[1]}=0`;
    const source = new WatchedEventSource(`${proxy.url}${streamsPath(channels)}&lastEventId=${start}`);
    sources.push(source);
    // Dropped right after the headers and the opening position block, before any event.
    await source.waitFor(() => openingPosition(source.bodies[0] ?? '') !== undefined, 'the opening position block');
    expect(openingPosition(source.bodies[0]!)).toBe(start);
    proxy.cut();
    const during = [
      [channels[0]!, await publishEvent(server.url, channels[0]!, 'during a')],
      [channels[1]!, await publishEvent(server.url, channels[1]!, 'during b')],
    ] as const;
    await source.waitFor(() => source.errors > 0, 'the client to notice the cut');
    proxy.restore();
    await source.waitFor(() => source.received.length >= 2, 'the events published during the drop');
    const after = await publishEvent(server.url, channels[1]!, 'after');
    await source.waitFor(() => source.received.length >= 3, 'the event after the reconnect');

    const { byChannel } = followCursor(
      new Map([
        [channels[0]!, older],
        [channels[1]!, 0],
      ]),
      source.received.map((event) => ({ id: event.id, event: event.event, data: event.data })),
    );
    expect(byChannel.get(channels[0]!)).toEqual([during[0][1]]);
    expect(byChannel.get(channels[1]!)).toEqual([during[1][1], after]);
  });

  it('documents a client limit: eventsource 4 keeps no id from the opening id-only block, so its reconnect before a first event carries no Last-Event-ID', async () => {
    // eventsource 4.1.1 (eventsource-parser 3) drops an `id:` that comes without `data:`, where
    // the WHATWG algorithm keeps it as the last event id (browsers do, see streams.e2e.test.ts).
    // eventsource 5 keeps it, but needs Node >= 22.12 and ESM. Until then a Node program that
    // must not lose events across a drop before its first event puts `lastEventId` in the URL
    // (the test above). When this test fails, the client was upgraded: make it assert the resume.
    const channel = 'es.quiet';
    const older = await publishEvent(server.url, channel, 'before the stream');
    const source = new WatchedEventSource(`${proxy.url}/channels/${channel}/stream`);
    sources.push(source);
    await source.waitFor(() => openingPosition(source.bodies[0] ?? '') !== undefined, 'the opening position block');
    expect(openingPosition(source.bodies[0]!)).toBe(String(older));
    proxy.cut();
    await source.waitFor(() => source.errors > 0, 'the client to notice the cut');
    proxy.restore();
    await source.waitFor(() => source.bodies.some((body, index) => index > 0 && openingPosition(body) !== undefined), 'the reconnect');
    expect(source.requestHeaders.map((headers) => headers['Last-Event-ID'])).toEqual(source.requestHeaders.map(() => undefined));
  });
});

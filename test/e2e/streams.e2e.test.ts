import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { followCursor, historyIds, publishEvent, streamsPath } from '../helpers/multi-stream';
import { TcpProxy } from '../helpers/tcp-proxy';
import { startTestServer, type TestServer } from '../helpers/test-server';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Quick reconnects, and heartbeats often enough to show a stream's bytes went through. */
const SERVER_ENV = { RETRY_MS: '250', HEARTBEAT_MS: '100' };

/** What the page's EventSource dispatched, as the page recorded it. */
interface PageEvent {
  readonly type: string;
  readonly data: string;
  readonly id: string;
}

/**
 * Opens `path` with `new EventSource(path)` in the page (same origin) and records every `message`
 * and `hub.gap` it dispatches, and its `open` and `error` events, in `window.sse`.
 */
async function openEventSource(page: Page, path: string): Promise<void> {
  await page.evaluate(`(() => {
    const sse = { events: [], opens: 0, errors: 0 };
    window.sse = sse;
    const source = new EventSource(${JSON.stringify(path)});
    window.source = source;
    source.addEventListener('open', () => { sse.opens++; });
    source.addEventListener('error', () => { sse.errors++; });
    for (const type of ['message', 'hub.gap']) {
      source.addEventListener(type, (event) => { sse.events.push({ type, data: event.data, id: event.lastEventId }); });
    }
  })()`);
  await page.waitForFunction('window.sse.opens >= 1');
}

async function pageEvents(page: Page): Promise<PageEvent[]> {
  return page.evaluate<PageEvent[]>('window.sse.events');
}

/**
 * A TCP proxy that also keeps what the server sent on each connection, so a test knows which
 * bytes reached the browser before it cuts. `cut()` resets everything and refuses until `restore()`.
 */
class RecordingProxy {
  readonly responses: string[] = [];
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: NetServer,
    private readonly targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<RecordingProxy> {
    const server = createServer();
    const proxy = new RecordingProxy(server, targetPort);
    server.on('connection', (socket) => proxy.accept(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves when some connection's response text satisfies `predicate`. */
  waitForResponse(predicate: (text: string) => boolean, timeoutMs = 10_000): Promise<void> {
    if (this.responses.some(predicate)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; responses: ${JSON.stringify(this.responses)}`)), timeoutMs);
      const check = (): void => {
        if (!this.responses.some(predicate)) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  cut(): void {
    this.refusing = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  restore(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.cut();
    const closed = once(this.server, 'close');
    this.server.close();
    await closed;
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    const index = this.responses.push('') - 1;
    const upstream = connect(this.targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on('data', (chunk: Buffer) => {
      this.responses[index] += chunk.toString('latin1');
      client.write(chunk);
      for (const waiter of [...this.waiters]) waiter();
    });
    client.pipe(upstream);
  }
}

let browser: Browser;
let server: TestServer;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  server = await startTestServer('redis', SERVER_ENV);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});
afterAll(async () => {
  await Promise.all([browser?.close(), server?.close()]);
});

/** A fresh page on the hub's origin (its health route: a page without scripts of its own). */
async function pageOn(origin: string): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await page.goto(`${origin}/healthz`);
  return page;
}

describe('a real Chromium EventSource', () => {
  it('on /streams?channel=a&channel=b resumes after a network cut with its cursor: every event once, in order per channel', async () => {
    const channels = ['browser.a', 'browser.b'];
    const proxy = await TcpProxy.start(server.port);
    try {
      const page = await pageOn(proxy.url);
      await openEventSource(page, streamsPath(channels));
      const ids = new Map<string, number[]>(channels.map((channel) => [channel, []]));
      const publishRound = async (round: string, count: number): Promise<void> => {
        for (let n = 0; n < count; n++) {
          const channel = channels[n % channels.length]!;
          ids.get(channel)!.push(await publishEvent(server.url, channel, { round, n }));
        }
      };
      const total = (): number => [...ids.values()].reduce((sum, list) => sum + list.length, 0);

      await publishRound('before', 6);
      await page.waitForFunction(`window.sse.events.length >= ${total()}`);
      const lastBeforeCut = (await pageEvents(page)).at(-1)!.id;
      const connectionsBeforeCut = proxy.requests.length;
      const errorsBeforeCut = await page.evaluate<number>('window.sse.errors');
      proxy.cut();
      await page.waitForFunction(`window.sse.errors > ${errorsBeforeCut}`);
      await publishRound('during', 8);
      proxy.restore();
      await page.waitForFunction(`window.sse.events.length >= ${total()}`);
      await publishRound('after', 4);
      await page.waitForFunction(`window.sse.events.length >= ${total()}`);

      const events = await pageEvents(page);
      expect(events).toHaveLength(total());
      expect(events.filter((event) => event.type !== 'message')).toEqual([]);
      // Fresh channels: the stream started at 0 on each; every id is the cursor after its event.
      const { byChannel } = followCursor(new Map(channels.map((channel) => [channel, 0])), events.map((event) => ({ id: event.id, event: event.type, data: event.data })));
      for (const channel of channels) {
        expect(byChannel.get(channel)).toEqual(ids.get(channel));
        expect(byChannel.get(channel)).toEqual(await historyIds(server.url, channel));
      }
      // The browser resumed by itself, sending the cursor of the last event it had.
      const resumed = proxy.requests.slice(connectionsBeforeCut).join('\n');
      expect(resumed).toMatch(new RegExp(`^last-event-id: ${lastBeforeCut.replace(/[.]/g, '\\.')}\\r$`, 'im'));
    } finally {
      await proxy.close();
    }
  });

  it('on a live-only single-channel stream that drops before its first event gets what was published during the drop', async () => {
    const channel = 'browser.quiet';
    const older = await publishEvent(server.url, channel, 'before the stream');
    const proxy = await RecordingProxy.start(server.port);
    try {
      const page = await pageOn(proxy.url);
      await openEventSource(page, `/channels/${channel}/stream`);
      // The opening position block reached the browser, and a heartbeat after it: cut now.
      const streamResponse = (text: string): boolean => text.includes('text/event-stream');
      await proxy.waitForResponse((text) => streamResponse(text) && new RegExp(`\\nid: ${older}\\n\\n[^]*: heartbeat`).test(text));
      const connectionsBeforeCut = proxy.responses.length;
      const errorsBeforeCut = await page.evaluate<number>('window.sse.errors');
      proxy.cut();
      await page.waitForFunction(`window.sse.errors > ${errorsBeforeCut}`);
      const during = [await publishEvent(server.url, channel, 'during 1'), await publishEvent(server.url, channel, 'during 2')];
      proxy.restore();
      await page.waitForFunction('window.sse.events.length >= 2');
      const after = await publishEvent(server.url, channel, 'after');
      await page.waitForFunction('window.sse.events.length >= 3');

      expect((await pageEvents(page)).map((event) => [event.type, event.id, event.data])).toEqual([
        ['message', String(during[0]), '"during 1"'],
        ['message', String(during[1]), '"during 2"'],
        ['message', String(after), '"after"'],
      ]);
      // The reconnect's response opened at the position the browser kept from the first one.
      expect(proxy.responses.slice(connectionsBeforeCut).some((text) => streamResponse(text) && text.includes(`\nid: ${older}\n\n`))).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { EventSource, type FetchLike } from 'eventsource';
import fc from 'fast-check';
import { publishJson } from '../helpers/publish';
import { BROKERS, startTestServer, type TestServer } from '../helpers/test-server';

/** The name rules of API.md, written out again so the property checks the server against them. */
const API_EVENT_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

interface Received {
  readonly type: string;
  readonly data: string;
  readonly lastEventId: string;
}

/** Awaitable record of what an EventSource (the `eventsource` package) dispatched. */
class EventSourceRecorder {
  readonly received: Received[] = [];
  private waiters: Array<() => void> = [];

  constructor(
    readonly source: EventSource,
    types: readonly string[] = ['message'],
  ) {
    for (const type of types) {
      source.addEventListener(type, (event) => {
        this.received.push({ type, data: String(event.data), lastEventId: event.lastEventId });
        for (const waiter of [...this.waiters]) waiter();
      });
    }
  }

  static async open(url: string, init?: { fetch?: FetchLike }, types?: readonly string[]): Promise<EventSourceRecorder> {
    const source = new EventSource(url, init);
    const recorder = new EventSourceRecorder(source, types);
    await new Promise<void>((resolve, reject) => {
      source.addEventListener('open', () => resolve(), { once: true });
      source.addEventListener('error', (error) => reject(new Error(`EventSource failed: ${String(error.message)}`)), { once: true });
    });
    return recorder;
  }

  waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.received.slice(-5))}`));
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

  waitForId(id: string): Promise<Received> {
    const find = () => this.received.find((event) => event.lastEventId === id);
    return this.waitFor(() => find() !== undefined, `event ${id}`).then(() => find()!);
  }
}

/** The raw text of one stream, for checking exactly which lines went over the wire. */
class RawStream {
  text = '';
  private waiters: Array<() => void> = [];
  private response: IncomingMessage | undefined;

  static open(url: string): Promise<RawStream> {
    const stream = new RawStream();
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { headers: { Accept: 'text/event-stream' } }, (res) => {
        stream.response = res;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          stream.text += chunk;
          for (const waiter of [...stream.waiters]) waiter();
        });
        resolve(stream);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Resolves with the complete block (without its blank line) that starts with `id: <id>`. */
  block(id: string, timeoutMs = 10_000): Promise<string> {
    const find = (): string | undefined => {
      const start = this.text.indexOf(`id: ${id}\n`);
      if (start === -1) return undefined;
      const end = this.text.indexOf('\n\n', start);
      return end === -1 ? undefined : this.text.slice(start, end);
    };
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for block ${id}`)), timeoutMs);
      const check = (): void => {
        const block = find();
        if (block === undefined) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve(block);
      };
      this.waiters.push(check);
    });
  }

  close(): void {
    this.response?.destroy();
  }
}

const HOSTILE_PIECES = ['\n', '\r', '\r\n', '\n\n', '\u2028', '\u2029', ': ', 'data:', 'id:', 'event:', 'retry:', '\ndata: x\n\n', '\u0000', '"', '\\', '}'];

const hostileString = fc
  .array(fc.oneof(fc.constantFrom(...HOSTILE_PIECES), fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 8 })
  .map((pieces) => pieces.join(''));

const hostileData = fc.oneof(
  hostileString,
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
);

const eventName = fc.oneof(
  fc.stringMatching(API_EVENT_NAME),
  fc.constantFrom('message', 'hub.gap', 'hub.x', 'data', 'id', 'retry', 'a: b', 'a\nb', 'a\rdata: x'),
  hostileString,
);

describe.each(BROKERS)('properties of the %s broker', (broker) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(broker, { MAX_EVENT_BYTES: String(1024 * 1024), RETRY_MS: '20' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('returns any published JSON value deep-equal through a real EventSource and through history', async () => {
    const recorder = await EventSourceRecorder.open(`${server.url}/channels/json-values/stream`);
    try {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 }), async (value) => {
          // What a publisher sends is JSON text, so -0 arrives as 0: compare with the JSON round trip.
          const sent = JSON.parse(JSON.stringify(value)) as unknown;
          const response = await publishJson(server.url, 'json-values', value);
          expect(response.status).toBe(201);
          const id = response.body.id!;

          const received = await recorder.waitForId(id);
          expect(received.type).toBe('message');
          expect(JSON.parse(received.data)).toEqual(sent);

          const history = await fetch(`${server.url}/channels/json-values/events?after=${Number(id) - 1}&limit=1`);
          const { events } = (await history.json()) as { events: Array<{ id: string; event: string; data: unknown }> };
          expect(events).toEqual([{ id, event: 'message', data: sent }]);
        }),
        { numRuns: 50 },
      );
    } finally {
      recorder.source.close();
    }
  });

  it('lets no data or event name add a field or an event: one id line and one data line per event', async () => {
    const raw = await RawStream.open(`${server.url}/channels/injection/stream`);
    let accepted = 0;
    try {
      await fc.assert(
        fc.asyncProperty(hostileData, fc.option(eventName, { nil: undefined }), async (data, event) => {
          const response = await publishJson(server.url, 'injection', data, { event });
          const allowed = event === undefined || (API_EVENT_NAME.test(event) && !event.startsWith('hub.'));
          if (!allowed) {
            expect(response.status).toBe(400);
            expect(response.body.error?.code).toBe('invalid_event');
            return;
          }
          expect(response.status).toBe(201);
          accepted++;
          const id = response.body.id!;
          const block = await raw.block(id);
          expect(block).toBe(`id: ${id}\nevent: ${event ?? 'message'}\ndata: ${JSON.stringify(data)}`);
        }),
        { numRuns: 60 },
      );
      expect(raw.text).not.toMatch(/\r/);
      const lines = raw.text.split('\n');
      // One id line per event, plus the stream's opening position block.
      expect(lines.filter((line) => line.startsWith('id:'))).toHaveLength(accepted + 1);
      expect(lines.filter((line) => line.startsWith('data:'))).toHaveLength(accepted);
      expect(lines.filter((line) => line.startsWith('event:'))).toHaveLength(accepted);
      expect(lines.filter((line) => line.startsWith('retry:'))).toHaveLength(1);
      expect(lines.every((line) => line === '' || /^(id|event|data|retry): /.test(line) || line.startsWith(':'))).toBe(true);
    } finally {
      raw.close();
    }
  });

  it('serves a real EventSource client: lastEventId follows the ids, and a reconnect resumes with Last-Event-ID', async () => {
    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) ids.push((await publishJson(server.url, 'real-client', n)).body.id!);

    // Cut the first connection right after the second event, as a network drop would.
    const requests: Array<Record<string, string>> = [];
    const cuttingFetch: FetchLike = async (url, init) => {
      requests.push({ ...(init?.headers as Record<string, string>) });
      const response = await fetch(url, init);
      if (requests.length > 1 || !response.body) return response;
      const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
      const marker = `id: ${ids[1]}\n`;
      let seen = '';
      const decoder = new TextDecoder();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          seen += decoder.decode(value, { stream: true });
          const start = seen.indexOf(marker);
          const end = start === -1 ? -1 : seen.indexOf('\n\n', start);
          if (end === -1) return controller.enqueue(value);
          const keep = Buffer.byteLength(seen.slice(0, end + 2)) - (Buffer.byteLength(seen) - value.byteLength);
          controller.enqueue(value.subarray(0, keep));
          controller.close();
          await reader.cancel();
        },
      });
      return { status: response.status, headers: response.headers, url: response.url, redirected: response.redirected, body };
    };

    const recorder = await EventSourceRecorder.open(`${server.url}/channels/real-client/stream?lastEventId=0`, { fetch: cuttingFetch });
    try {
      await recorder.waitForId(ids[2]!);
      ids.push((await publishJson(server.url, 'real-client', 4)).body.id!);
      await recorder.waitForId(ids[3]!);

      expect(recorder.received.map((event) => event.lastEventId)).toEqual(ids);
      expect(recorder.received.map((event) => event.data)).toEqual(['1', '2', '3', '4']);
      expect(requests).toHaveLength(2);
      expect(requests[0]!['Last-Event-ID']).toBeUndefined();
      expect(requests[1]!['Last-Event-ID']).toBe(ids[1]);
    } finally {
      recorder.source.close();
    }
  });
});

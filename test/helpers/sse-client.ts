import { request, type IncomingMessage, type ClientRequest } from 'node:http';

/** One parsed SSE message (comments are counted separately). */
export interface SseMessage {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/**
 * A minimal SSE client on a raw HTTP request, for tests: records every message, comment and
 * `retry:` and lets a test await a condition on them (no sleeps).
 */
export class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  readonly retries: number[] = [];
  /** The last `id:` field seen, also from an id-only block (what a browser would resume from). */
  lastEventId: string | undefined;
  response: IncomingMessage | undefined;
  ended = false;
  private buffer = '';
  private waiters: Array<() => void> = [];
  private request: ClientRequest | undefined;

  /** With `keepData` false, messages keep only their id and event (for high-volume tests). */
  constructor(private readonly keepData = true) {}

  /** Opens the stream; resolves with the client once the response headers arrived. */
  static open(url: string, headers: Record<string, string> = {}, options: { keepData?: boolean } = {}): Promise<SseClient> {
    const client = new SseClient(options.keepData ?? true);
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
        client.response = res;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => client.feed(chunk));
        res.on('end', () => client.finish());
        res.on('close', () => client.finish());
        res.on('error', () => client.finish());
        resolve(client);
      });
      client.request = req;
      req.on('error', (error) => {
        client.finish();
        reject(error);
      });
      req.end();
    });
  }

  /** Ids of the messages that had one, as numbers. */
  get ids(): number[] {
    return this.messages.filter((message) => message.id !== undefined).map((message) => Number(message.id));
  }

  /** Resolves when `predicate` holds; rejects after `timeoutMs` with what was received. */
  waitFor(predicate: (client: SseClient) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out waiting for ${what}; got ${this.messages.length} messages, ended=${this.ended}, retry fields ${JSON.stringify(this.retries)} (more than one second: refused), last id ${this.lastEventId}`));
      }, timeoutMs);
      const check = (): void => {
        if (!predicate(this)) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  waitForMessages(count: number, timeoutMs?: number): Promise<void> {
    return this.waitFor((client) => client.messages.length >= count, timeoutMs, `${count} messages`);
  }

  waitForEnd(timeoutMs?: number): Promise<void> {
    return this.waitFor((client) => client.ended, timeoutMs, 'the end of the stream');
  }

  close(): void {
    this.request?.destroy();
    this.finish();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let boundary = this.buffer.search(/\r\n\r\n|\n\n|\r\r/);
    while (boundary !== -1) {
      const block = this.buffer.slice(0, boundary);
      const separator = /^(\r\n\r\n|\n\n|\r\r)/.exec(this.buffer.slice(boundary))?.[0] ?? '\n\n';
      this.buffer = this.buffer.slice(boundary + separator.length);
      this.parseBlock(block);
      boundary = this.buffer.search(/\r\n\r\n|\n\n|\r\r/);
    }
    this.notify();
  }

  private parseBlock(block: string): void {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry') this.retries.push(Number(value));
    }
    // Copies, because V8 substrings keep the whole received chunk alive.
    id = id === undefined ? undefined : fresh(id);
    if (id !== undefined) this.lastEventId = id;
    event = fresh(event);
    if (data.length > 0) this.messages.push({ id, event, data: this.keepData ? data.join('\n') : '' });
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** The streams a test opened, closed together when it ends. */
export class OpenStreams {
  private readonly clients: SseClient[] = [];

  async open(url: string, headers?: Record<string, string>): Promise<SseClient> {
    const client = await SseClient.open(url, headers);
    this.clients.push(client);
    return client;
  }

  closeAll(): void {
    for (const client of this.clients.splice(0)) client.close();
  }
}

function fresh(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

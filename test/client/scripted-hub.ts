import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the scripted hub received. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly atMs: number;
}

export type StreamScript = (response: ServerResponse, request: ReceivedRequest) => void;

/**
 * An HTTP server that answers as the hub would in situations the real one cannot be steered
 * into on demand (an id jump on the wire, a first 401, a silent stream, a history read that
 * never answers): each `GET /streams` takes the next queued script; history comes from a queued
 * history script, else from `history`; every request is recorded.
 * It stands in for the hub's HTTP side only, for the client's own behaviour tests.
 */
export class ScriptedHub {
  readonly requests: ReceivedRequest[] = [];
  readonly history = new Map<string, Array<{ id: string; event: string; data: unknown }>>();
  readonly openStreams = new Set<ServerResponse>();
  /** Events per history page, standing for HISTORY_PAGE_BYTES: a longer read stops early with `more`. */
  historyPageCap = Infinity;
  private readonly scripts: StreamScript[] = [];
  private readonly historyScripts: StreamScript[] = [];
  private postScript: ((response: ServerResponse, request: ReceivedRequest) => void) | undefined;
  private waiters: Array<() => void> = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<ScriptedHub> {
    const server = createServer();
    const hub = new ScriptedHub(server);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => void hub.handle(request, response));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return hub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Queues how the next `GET /streams` is answered. */
  onStream(...scripts: StreamScript[]): void {
    this.scripts.push(...scripts);
  }

  /** Queues how the next history reads are answered (then `history` answers again). */
  onHistory(...scripts: StreamScript[]): void {
    this.historyScripts.push(...scripts);
  }

  /** The recorded history reads. */
  get historyRequests(): ReceivedRequest[] {
    return this.requests.filter((request) => request.method === 'GET' && /^\/channels\/[^/]+\/events$/.test(request.path));
  }

  /** How every `POST /channels/:c/events` is answered. */
  onPublish(script: (response: ServerResponse, request: ReceivedRequest) => void): void {
    this.postScript = script;
  }

  /** The recorded `GET /streams` requests. */
  get streamRequests(): ReceivedRequest[] {
    return this.requests.filter((request) => request.path === '/streams');
  }

  /** Resolves when `predicate` holds (checked at each request and stream close). */
  async until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    for (const response of this.openStreams) response.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of request) body += (chunk as Buffer).toString();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const received: ReceivedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body,
      atMs: Date.now(),
    };
    this.requests.push(received);
    response.on('close', () => {
      this.openStreams.delete(response);
      this.notify();
    });
    this.notify();
    const historyMatch = /^\/channels\/([^/]+)\/events$/.exec(url.pathname);
    if (url.pathname === '/streams') {
      const script = this.scripts.shift();
      if (script === undefined) {
        json(response, 503, { error: { code: 'no_script', message: 'no script left' } });
        return;
      }
      this.openStreams.add(response);
      script(response, received);
    } else if (historyMatch && request.method === 'GET' && this.historyScripts.length > 0) {
      this.historyScripts.shift()!(response, received);
    } else if (historyMatch && request.method === 'GET') {
      const after = Number(url.searchParams.get('after') ?? '0');
      const limit = Number(url.searchParams.get('limit') ?? '100');
      const newer = (this.history.get(decodeURIComponent(historyMatch[1]!)) ?? []).filter((event) => Number(event.id) > after);
      const events = newer.slice(0, Math.min(limit, this.historyPageCap));
      json(response, 200, { events, more: newer.length > events.length });
    } else if (historyMatch && request.method === 'POST' && this.postScript) {
      this.postScript(response, received);
    } else {
      json(response, 404, { error: { code: 'not_found', message: 'not scripted' } });
    }
  }
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Opens an event stream and writes `text` (e.g. `retry:` and the priming block). */
export function sse(response: ServerResponse, text: string): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.write(text);
}

/** One `/streams` event block: the cursor id, the name and the envelope. */
export function envelope(cursor: string, channel: string, id: number, data: unknown, event = 'message'): string {
  return `id: ${cursor}\nevent: ${event}\ndata: ${JSON.stringify({ channel, id: String(id), data })}\n\n`;
}

/** An ephemeral channel's `/streams` event: no `id:` line, `"id": null` in the envelope. */
export function ephemeral(channel: string, data: unknown, event = 'message'): string {
  return `event: ${event}\ndata: ${JSON.stringify({ channel, id: null, data })}\n\n`;
}

/** `event: hub.disconnect`, without an `id:` line. */
export function disconnect(reason: string, reconnect: boolean): string {
  return `event: hub.disconnect\ndata: ${JSON.stringify({ reason, reconnect })}\n\n`;
}

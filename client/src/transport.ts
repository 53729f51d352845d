import { AbortedError, errorFromResponse, isRecord, SseHubError } from './errors.js';
import type { HeadersSource } from './types.js';

/** How requests reach the hub: its address, credentials and the `fetch` to use. */
export interface TransportOptions {
  /** The hub's origin and optional path prefix, e.g. `http://127.0.0.1:3000`. Default: this page's origin. */
  readonly baseUrl?: string;
  /** Headers for every request (e.g. `Authorization`); a function is called again per connect. */
  readonly headers?: HeadersSource;
  /**
   * Read streams and history with a ticket (`POST /tickets` with `headers`, then `?ticket=`):
   * the stream request then carries no `Authorization`. Renewed before it expires.
   */
  readonly ticket?: boolean;
  /** `fetch`'s credentials mode, for cookie auth across origins. Default `same-origin`. */
  readonly credentials?: 'omit' | 'same-origin' | 'include';
  /** The `fetch` to use; default the global one. */
  readonly fetch?: typeof fetch;
}

/** One event as the history route returns it. */
export interface HistoryEvent {
  readonly id: string;
  readonly event: string;
  readonly data: unknown;
}

/** One answer of the history route; `more`: events beyond this page remain (read on from its last id). */
export interface HistoryPage {
  readonly events: HistoryEvent[];
  readonly more: boolean;
}

/** What a read request carries: headers, or a ticket in the query. */
export interface ReadAuth {
  readonly headers: Record<string, string>;
  readonly query: ReadonlyArray<readonly [string, string]>;
}

const TICKET_RENEW_MARGIN_MS = 30_000;

/** Shared by the client and its subscriptions: URLs, credentials, tickets, history pages. */
export class Transport {
  readonly fetch: typeof fetch;
  private readonly baseUrl: string;
  private ticket: { value: string; renewAtMs: number } | undefined;

  constructor(private readonly options: TransportOptions) {
    const base = options.baseUrl ?? pageOrigin();
    if (base === undefined) throw new TypeError('baseUrl is required outside a browser page');
    this.baseUrl = base.replace(/\/+$/, '');
    const fetchFunction = options.fetch ?? globalThis.fetch;
    if (typeof fetchFunction !== 'function') throw new TypeError('no fetch: pass options.fetch');
    this.fetch = fetchFunction.bind(globalThis);
  }

  get credentials(): 'omit' | 'same-origin' | 'include' {
    return this.options.credentials ?? 'same-origin';
  }

  /** `path` under the base URL with `query` appended (each value encoded). */
  url(path: string, query: ReadonlyArray<readonly [string, string]> = []): string {
    const search = query.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');
    return `${this.baseUrl}${path}${search === '' ? '' : `?${search}`}`;
  }

  /** The configured headers, asking the function again each time. */
  async headers(): Promise<Record<string, string>> {
    const source = this.options.headers;
    if (source === undefined) return {};
    return { ...(typeof source === 'function' ? await source() : source) };
  }

  /** Credentials for a read (stream or history); a new ticket when the last one is near expiry. */
  async readAuth(signal?: AbortSignal): Promise<ReadAuth> {
    if (this.options.ticket !== true) return { headers: await this.headers(), query: [] };
    if (this.ticket === undefined || Date.now() >= this.ticket.renewAtMs) this.ticket = await this.fetchTicket(signal);
    return { headers: {}, query: [['ticket', this.ticket.value]] };
  }

  /** Forgets the ticket, so the next read asks for a new one (after a 401 or a `hub.reauth`). */
  renewCredentials(): void {
    this.ticket = undefined;
  }

  /**
   * Up to `limit` events of `channel` with id > `after` (without `after`: the newest `limit`),
   * oldest first, and whether more remain (a hub without the `more` field counts as `true`, so
   * a reader asks on until a page is empty). With `timeoutMs`, the whole read (a ticket if one is due, the request, the
   * body) is abandoned after that long with an `SseHubError` of code `timeout`. Throws
   * `SseHubError`.
   */
  async history(channel: string, after: string | undefined, limit: number, signal?: AbortSignal, timeoutMs?: number): Promise<HistoryPage> {
    const what = `history of ${channel}`;
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    if (signal?.aborted === true) abort();
    signal?.addEventListener('abort', abort, { once: true });
    const timer = timeoutMs === undefined ? undefined : setTimeout(abort, timeoutMs);
    try {
      const auth = await this.readAuth(controller.signal);
      const query: Array<readonly [string, string]> = after === undefined ? [] : [['after', after]];
      query.push(['limit', String(limit)], ...auth.query);
      const url = this.url(`/channels/${encodeURIComponent(channel)}/events`, query);
      const response = await this.send(url, { headers: { accept: 'application/json', ...auth.headers }, signal: controller.signal }, 'history');
      if (!response.ok) throw await errorFromResponse(response, what);
      const body = (await response.json()) as unknown;
      if (!isRecord(body) || !Array.isArray(body.events)) throw new SseHubError('history: unexpected body', response.status, 'invalid_response');
      return { events: body.events.filter(isHistoryEvent), more: body.more !== false };
    } catch (error) {
      if (signal?.aborted === true) throw error instanceof AbortedError ? error : new AbortedError(`${what}: aborted`, { cause: error });
      if (controller.signal.aborted) throw new SseHubError(`${what}: timed out after ${timeoutMs} ms`, 0, 'timeout', { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    }
  }

  /** `fetch` with the transport's credentials mode; network failures become `SseHubError` (status 0). */
  async send(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await this.fetch(url, { credentials: this.credentials, ...init });
    } catch (error) {
      if (init.signal?.aborted === true) throw new AbortedError(`${what}: aborted`, { cause: error });
      throw new SseHubError(`${what}: ${messageOf(error)}`, 0, 'network_error', { cause: error });
    }
  }

  private async fetchTicket(signal?: AbortSignal): Promise<{ value: string; renewAtMs: number }> {
    const response = await this.send(
      this.url('/tickets'),
      { method: 'POST', headers: { accept: 'application/json', ...(await this.headers()) }, signal },
      'ticket',
    );
    if (!response.ok) throw await errorFromResponse(response, 'ticket');
    const body = (await response.json()) as unknown;
    if (!isRecord(body) || typeof body.ticket !== 'string') throw new SseHubError('ticket: unexpected body', response.status, 'invalid_response');
    const expiresAtMs = typeof body.expiresAt === 'string' ? Date.parse(body.expiresAt) : NaN;
    const lifeMs = Number.isFinite(expiresAtMs) ? expiresAtMs - Date.now() : 0;
    return { value: body.ticket, renewAtMs: Date.now() + Math.max(0, Math.min(lifeMs - TICKET_RENEW_MARGIN_MS, lifeMs / 2)) };
  }
}

function isHistoryEvent(value: unknown): value is HistoryEvent {
  return isRecord(value) && typeof value.id === 'string' && typeof value.event === 'string' && 'data' in value;
}

function pageOrigin(): string | undefined {
  const location = (globalThis as { location?: { origin?: string } }).location;
  return typeof location?.origin === 'string' && location.origin !== 'null' ? location.origin : undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

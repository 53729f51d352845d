import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError } from '../errors';
import { parseHookAnswer, MalformedHookAnswerError, type HookGrant } from './hook-answer';
import { HookCache } from './hook-cache';

/** The hook could not decide (failed, malformed, slow, unreachable): 503, or a stream's busy answer. */
export class AuthUnavailableError extends AppError {
  constructor() {
    super('auth_unavailable', 'the authorization service is unavailable; retry later');
    this.name = 'AuthUnavailableError';
  }
}

/** What the hook decided: a grant, or its own 401 / 403 passed on to the reader. */
export type HookVerdict = { readonly kind: 'grant'; readonly grant: HookGrant } | { readonly kind: 'refused'; readonly status: 401 | 403 };

export interface AuthHookOptions {
  readonly url: string;
  /** Lower-case names of the request headers forwarded (AUTH_HOOK_HEADERS). */
  readonly headerNames: readonly string[];
  readonly timeoutMs: number;
  /** How long an answer is reused; 0 = each read asks (concurrent identical ones still share). */
  readonly cacheS: number;
  readonly logger: Logger;
  /** Most answers held (API.md: 10,000). */
  readonly capacity?: number;
  /** The clock, ms since the epoch: cache expiry and the log's rate limit. */
  readonly now?: () => number;
}

type FailureKind = 'status' | 'malformed' | 'timeout' | 'unreachable';

const DEFAULT_CAPACITY = 10_000;
const LOG_INTERVAL_MS = 60_000;
// A grant is at most 64 patterns and 1 KB of info: anything near this is not an answer.
const MAX_ANSWER_BYTES = 65_536;

/**
 * The application's authorization endpoint (API.md, "Authorizing through the application"):
 * `POST url` with `{"channels","headers"}`, answers cached per forwarded values and channels and
 * shared by concurrent identical reads, so a reconnect storm costs a handful of calls. The URL
 * and the forwarded values never reach the logs; failures are logged once per kind per minute.
 */
export class AuthHook {
  private readonly cache: HookCache<HookVerdict>;
  private readonly pending = new Map<string, Promise<HookVerdict>>();
  private readonly now: () => number;
  private readonly lastLogged = new Map<FailureKind, { atMs: number; suppressed: number }>();

  constructor(private readonly options: AuthHookOptions) {
    this.now = options.now ?? Date.now;
    this.cache = new HookCache(options.capacity ?? DEFAULT_CAPACITY, this.now);
  }

  /**
   * Asks the hook (or its cached answer) about `channels` for a request whose headers `header`
   * reads. Rejects with AuthUnavailableError when the hook cannot decide.
   */
  authorize(header: (name: string) => string, channels: readonly string[]): Promise<HookVerdict> {
    const headers: Record<string, string> = {};
    for (const name of this.options.headerNames) {
      const value = header(name);
      if (value !== '') headers[name] = value;
    }
    const sorted = [...channels].sort();
    const key = createHash('sha256').update(JSON.stringify([headers, sorted])).digest('base64url');
    const cached = this.cache.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const inFlight = this.pending.get(key);
    if (inFlight !== undefined) return inFlight;
    const call = this.call({ channels: sorted, headers })
      .then((verdict) => {
        this.remember(key, verdict);
        return verdict;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, call);
    return call;
  }

  private async call(body: { channels: string[]; headers: Record<string, string> }): Promise<HookVerdict> {
    let response: Response;
    let text: string | null;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await readCapped(response);
    } catch (error) {
      const timedOut = (error as { name?: unknown }).name === 'TimeoutError';
      throw this.fail(timedOut ? 'timeout' : 'unreachable', timedOut ? `no answer within ${this.options.timeoutMs} ms` : describeCause(error));
    }
    if (response.status === 401 || response.status === 403) return { kind: 'refused', status: response.status };
    if (response.status !== 200) throw this.fail('status', `it answered HTTP ${response.status}`);
    if (text === null) throw this.fail('malformed', `the answer is larger than ${MAX_ANSWER_BYTES} bytes`);
    try {
      return { kind: 'grant', grant: parseHookAnswer(text) };
    } catch (error) {
      if (error instanceof MalformedHookAnswerError) throw this.fail('malformed', error.message);
      throw error;
    }
  }

  private remember(key: string, verdict: HookVerdict): void {
    if (this.options.cacheS === 0) return;
    const until = this.now() + this.options.cacheS * 1000;
    const expiresAtMs = verdict.kind === 'grant' && verdict.grant.expiresAtMs !== null ? Math.min(until, verdict.grant.expiresAtMs) : until;
    this.cache.set(key, verdict, expiresAtMs);
  }

  /** Logs the failure unless its kind was logged in the last minute (then counts it), and returns the error to throw. */
  private fail(kind: FailureKind, reason: string): AuthUnavailableError {
    const now = this.now();
    const last = this.lastLogged.get(kind);
    if (last !== undefined && now - last.atMs < LOG_INTERVAL_MS) {
      last.suppressed += 1;
    } else {
      const suppressed = last?.suppressed ?? 0;
      this.lastLogged.set(kind, { atMs: now, suppressed: 0 });
      this.options.logger.warn({ kind, suppressed }, `AUTH_HOOK_URL failed (${kind}): ${reason}; reads it would authorize are refused for now`);
    }
    return new AuthUnavailableError();
  }
}

/** The network error's code (ECONNREFUSED, ENOTFOUND…), never its message (it may hold the URL). */
function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? `unreachable (${cause.code})` : 'unreachable';
}

/** The body as text, or null past MAX_ANSWER_BYTES (read no further: a runaway answer is not buffered). */
async function readCapped(response: Response): Promise<string | null> {
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Node types the body loosely; fetch always yields bytes.
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

import { Backoff } from './backoff.js';
import { AbortedError, errorFromResponse, isRecord, isRetryableStatus, SseHubError, UnavailableError } from './errors.js';
import type { Transport } from './transport.js';
import { wakeableDelay } from './wake.js';

/** Options of `hub.publish`. */
export interface PublishOptions<E extends string = string> {
  /** The event's name. Default `message`. */
  readonly event?: E;
  /** The key sent as `Idempotency-Key`; default a random one, kept across this call's retries. */
  readonly idempotencyKey?: string;
  /** Aborting it stops the publish (it may or may not have been stored). */
  readonly signal?: AbortSignal;
  /** Each attempt's time limit. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Attempts after the first, for network errors, timeouts, 408, 429 and 5xx. Default 5. */
  readonly retries?: number;
}

/** The hub's answer to a publish. `duplicate`: an earlier attempt with the same key had stored it. */
export interface PublishResult {
  /** The event's id; `null` on an ephemeral channel (`history: 0`, answered 202: nothing stored). */
  readonly id: string | null;
  readonly channel: string;
  readonly event: string;
  readonly duplicate: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRIES = 5;

/**
 * Publishes one event with an `Idempotency-Key` that stays the same across retries, so an
 * attempt whose answer was lost and is repeated is stored once (the hub answers the repeat 200
 * with the first id; an ephemeral channel keeps nothing, so a retry there may deliver twice).
 * Throws `SseHubError` subclasses with `status` and `code`.
 */
export async function publish(transport: Transport, channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
  const key = options.idempotencyKey ?? randomKey();
  const body = JSON.stringify(options.event === undefined ? { data } : { event: options.event, data });
  const retries = options.retries ?? DEFAULT_RETRIES;
  const backoff = new Backoff({ initialMs: 200, maxMs: 5000 });
  const neverAborted = new AbortController().signal;
  let renewed = false;
  let lastError: SseHubError | undefined;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (options.signal?.aborted === true) throw new AbortedError('publish aborted', { cause: lastError });
    const outcome = await attemptPublish(transport, channel, body, key, options);
    if (!(outcome instanceof SseHubError)) return outcome;
    lastError = outcome;
    if (outcome.status === 401 && !renewed) {
      renewed = true;
      attempt--;
      continue;
    }
    if (outcome instanceof AbortedError) throw outcome;
    if (outcome.status !== 0 && !isRetryableStatus(outcome.status)) throw outcome;
    await wakeableDelay(backoff.next(), options.signal ?? neverAborted);
  }
  const reason = lastError?.message ?? 'no answer';
  throw new UnavailableError(`publish to ${channel} failed after ${retries + 1} attempts: ${reason}`, lastError?.status ?? 0, lastError?.code ?? 'unavailable', {
    cause: lastError,
  });
}

async function attemptPublish(transport: Transport, channel: string, body: string, key: string, options: PublishOptions): Promise<PublishResult | SseHubError> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  const timer = setTimeout(abort, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    const response = await transport.send(
      transport.url(`/channels/${encodeURIComponent(channel)}/events`),
      {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json', 'idempotency-key': key, ...(await transport.headers()) },
        body,
        signal: controller.signal,
      },
      'publish',
    );
    if (!response.ok) return await errorFromResponse(response, `publish to ${channel}`);
    const answer = (await response.json()) as unknown;
    const ephemeral = response.status === 202;
    if (!isRecord(answer) || (typeof answer.id !== 'string' && !ephemeral)) return new SseHubError('publish: unexpected body', response.status, 'invalid_response');
    return {
      id: typeof answer.id === 'string' ? answer.id : null,
      channel: typeof answer.channel === 'string' ? answer.channel : channel,
      event: typeof answer.event === 'string' ? answer.event : 'message',
      duplicate: response.status === 200,
    };
  } catch (error) {
    if (options.signal?.aborted === true) return new AbortedError('publish aborted', { cause: error });
    if (controller.signal.aborted) return new SseHubError(`publish to ${channel}: timed out`, 0, 'timeout', { cause: error });
    return error instanceof SseHubError ? error : new SseHubError(`publish to ${channel}: ${String(error)}`, 0, 'network_error', { cause: error });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', abort);
  }
}

/** 128 random bits as hex; `getRandomValues` works in insecure contexts too, unlike `randomUUID`. */
function randomKey(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

import { AbortedError, errorFromResponse, isRetryableStatus, SseHubError } from './errors.js';
import { SseParser } from './sse-parser.js';
import type { Transport } from './transport.js';
import { interpretMessage, type WireItem } from './wire.js';

/** Why a connection attempt did not give a stream: retry after at least `floorMs`, or give up. */
export type OpenFailure =
  | { readonly retry: true; readonly error: SseHubError; readonly floorMs: number }
  | { readonly retry: false; readonly error: SseHubError };

/** Why a stream stopped giving items. */
export type EndReason = 'ended' | 'network' | 'watchdog' | 'aborted';

/**
 * One `GET /streams` response being read: parsed as it arrives, read only when asked (so the
 * network is read only as fast as the consumer takes items), with a watchdog on each read.
 */
export class StreamConnection {
  private readonly decoder = new TextDecoder();
  private readonly parser = new SseParser();

  private constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly controller: AbortController,
  ) {}

  /**
   * Opens `/streams` for `channels` from `cursor`. Resolves with the connection or the reason
   * it failed; rejects only with `AbortedError` when `signal` aborts.
   */
  static async open(
    transport: Transport,
    channels: readonly string[],
    cursor: string,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<StreamConnection | OpenFailure> {
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    signal.addEventListener('abort', abort, { once: true });
    const timer = setTimeout(abort, timeoutMs);
    try {
      const auth = await transport.readAuth(controller.signal);
      const query: Array<readonly [string, string]> = channels.map((channel) => ['channel', channel] as const);
      if (cursor !== '') query.push(['lastEventId', cursor]);
      query.push(...auth.query);
      const response = await transport.send(
        transport.url('/streams', query),
        { headers: { accept: 'text/event-stream', ...auth.headers }, signal: controller.signal },
        'stream',
      );
      const type = response.headers.get('content-type') ?? '';
      if (response.status === 200 && type.startsWith('text/event-stream') && response.body !== null) {
        return new StreamConnection(response.body.getReader(), controller);
      }
      if (response.ok || isRetryableStatus(response.status)) {
        const floorMs = retryAfterMs(response.headers.get('retry-after'));
        const error = response.ok
          ? new SseHubError(`stream: unexpected ${response.status} ${type}`, response.status, 'invalid_response')
          : await errorFromResponse(response, 'stream');
        controller.abort();
        return { retry: true, error, floorMs };
      }
      return { retry: false, error: await errorFromResponse(response, 'stream') };
    } catch (error) {
      if (signal.aborted) throw new AbortedError('stream: closed', { cause: error });
      if (controller.signal.aborted) return { retry: true, error: new SseHubError('stream: connect timed out', 0, 'timeout'), floorMs: 0 };
      const failure = error instanceof SseHubError ? error : new SseHubError(`stream: ${String(error)}`, 0, 'network_error', { cause: error });
      if (failure.status === 0 || isRetryableStatus(failure.status)) return { retry: true, error: failure, floorMs: 0 };
      return { retry: false, error: failure };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
    }
  }

  /**
   * The items of the next chunk (possibly none, e.g. a partial line), or why the stream stopped
   * when nothing arrived for `watchdogMs` or it ended or failed.
   */
  async read(watchdogMs: number): Promise<WireItem[] | EndReason> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watchdog = new Promise<'watchdog'>((resolve) => {
      timer = setTimeout(() => resolve('watchdog'), watchdogMs);
    });
    try {
      const result = await Promise.race([this.reader.read(), watchdog]);
      if (result === 'watchdog') {
        this.close();
        return 'watchdog';
      }
      if (result.done) return 'ended';
      const items: WireItem[] = [];
      for (const message of this.parser.feed(this.decoder.decode(result.value, { stream: true }))) {
        const item = interpretMessage(message);
        if (item !== undefined) items.push(item);
      }
      return items;
    } catch {
      return this.controller.signal.aborted ? 'aborted' : 'network';
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops reading and releases the connection. Idempotent. */
  close(): void {
    this.controller.abort();
    this.reader.cancel().catch(() => undefined);
  }
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds (0 when absent or unreadable). */
function retryAfterMs(value: string | null): number {
  if (value === null) return 0;
  if (/^[0-9]+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : 0;
}

import { AbortedError, DisconnectedError } from './errors.js';
import { StreamConnection, type EndReason } from './stream-connection.js';
import type { ItemSource, SequencedItem, SourceContext } from './source.js';
import { wakeableDelay } from './wake.js';
import type { WireItem } from './wire.js';

/**
 * The stream of one subscription across connections: connects (and reconnects with backoff),
 * reads only when asked, renews credentials on `hub.reauth` or a first 401, and reconnects
 * from the cursor when the stream ends, fails, or goes silent past the watchdog.
 */
export class NetworkSource implements ItemSource {
  private connection: StreamConnection | undefined;
  private delayMs = 0;
  private primed = false;
  private openedAtMs = 0;
  private retryHintMs = 0;
  private renewedAfterUnauthorized = false;
  private renewPending = false;
  private disconnected: DisconnectedError | undefined;
  private everOpened = false;

  constructor(private readonly options: SourceContext) {
    // A read in progress ends at once, rather than at the next chunk or heartbeat.
    options.signal.addEventListener('abort', () => this.close(), { once: true });
  }

  /**
   * The next non-empty batch of items, in stream order. Rejects with the typed error that ends
   * the subscription (401 after a renewal, 403, other 4xx, `hub.disconnect` without reconnect),
   * or `AbortedError` once closed.
   */
  async next(): Promise<SequencedItem[]> {
    const { signal } = this.options;
    for (;;) {
      if (signal.aborted) throw new AbortedError('subscription closed');
      if (this.disconnected !== undefined) throw this.disconnected;
      if (this.renewPending && this.connection !== undefined) this.drop('renew');
      if (this.connection === undefined) {
        await this.connect();
        continue;
      }
      const result = await this.connection.read(this.options.watchdogMs);
      if (typeof result === 'string') {
        this.drop(result);
        continue;
      }
      const items = this.absorb(result);
      if (items.length > 0) return items;
    }
  }

  /** Lets go of the connection while the consumer is away; the next read reconnects at once. */
  suspend(): void {
    if (this.connection !== undefined) this.drop('suspend');
  }

  /** Reconnects from the cursor after a backoff (e.g. a history read failed). */
  reconnect(): void {
    if (this.connection !== undefined) this.drop('network');
  }

  /** Releases the connection; `signal` should be aborted too. */
  close(): void {
    this.connection?.close();
    this.connection = undefined;
  }

  private async connect(): Promise<void> {
    const { transport, channels, signal } = this.options;
    await wakeableDelay(this.delayMs, signal);
    this.delayMs = 0;
    if (signal.aborted) throw new AbortedError('subscription closed');
    const opened = await StreamConnection.open(transport, channels, this.options.cursor(), signal, this.options.watchdogMs);
    if (opened instanceof StreamConnection) {
      this.connection = opened;
      this.openedAtMs = Date.now();
      this.primed = false;
      return;
    }
    if (!opened.retry) {
      if (opened.error.status === 401 && !this.renewedAfterUnauthorized) {
        this.renewedAfterUnauthorized = true;
        transport.renewCredentials();
        return;
      }
      throw opened.error;
    }
    this.delayMs = this.options.backoff.next(opened.floorMs);
    this.options.onState(this.everOpened ? 'reconnecting' : 'connecting', opened.error);
  }

  private absorb(items: WireItem[]): SequencedItem[] {
    const kept: SequencedItem[] = [];
    for (const item of items) {
      if (item.type === 'retry') {
        this.options.backoff.setBase(item.retryMs);
        this.retryHintMs = item.retryMs;
      } else if (item.type === 'reauth') {
        this.renewPending = true;
      } else if (item.type === 'disconnect') {
        // The hub ends the stream right after: what came before is passed on, then we stop or
        // reconnect at once (a revoked credential then meets its 401 and one renewal).
        if (item.reconnect) this.renewPending = true;
        else {
          this.disconnected = new DisconnectedError(item.reason);
          this.close();
        }
        break;
      } else if (item.type !== 'heartbeat') {
        if (!this.primed) this.opened();
        kept.push(item);
      }
    }
    return kept;
  }

  private opened(): void {
    this.primed = true;
    this.everOpened = true;
    this.renewedAfterUnauthorized = false;
    this.options.onState('open');
  }

  private drop(reason: EndReason | 'renew' | 'suspend'): void {
    const healthyForMs = this.primed ? Date.now() - this.openedAtMs : 0;
    this.connection?.close();
    this.connection = undefined;
    if (reason === 'renew') {
      this.renewPending = false;
      this.options.transport.renewCredentials();
      // A reconnect the hub asked for (`hub.reauth`) from a stream that worked is no failure: it
      // forgets earlier ones too, since with short-lived credentials no stream lives
      // `healthyAfterMs` and the attempt count would otherwise only grow.
      if (this.primed) this.options.backoff.reset();
      this.delayMs = 0;
      return;
    }
    if (reason === 'suspend' || reason === 'aborted') {
      this.delayMs = 0;
      return;
    }
    this.options.backoff.connectionEnded(healthyForMs);
    // A stream that ended before its starting position is the hub's "busy, come back later".
    this.delayMs = this.options.backoff.next(this.primed ? 0 : this.retryHintMs);
    this.options.onState(this.everOpened ? 'reconnecting' : 'connecting');
  }
}

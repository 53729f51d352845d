import type { Backoff } from './backoff.js';
import type { SseHubError } from './errors.js';
import type { Transport } from './transport.js';
import type { ConnectionState } from './types.js';
import type { WireItem } from './wire.js';

/** Items that matter to the ordering; `retry:`, `hub.reauth`, `hub.disconnect` and heartbeats stay in the source. */
export type SequencedItem = Exclude<WireItem, { type: 'retry' } | { type: 'reauth' } | { type: 'disconnect' } | { type: 'heartbeat' }>;

/** Where a subscription's items come from: its own stream, or another tab's (`share: 'tabs'`). */
export interface ItemSource {
  /** The next non-empty batch, in stream order; rejects with the error that ends the subscription. */
  next(): Promise<SequencedItem[]>;
  /** The consumer is away: let go of the connection until the next `next()`. */
  suspend(): void;
  /** Something read could not be ordered (a history read failed): resume from the cursor. */
  reconnect(): void;
  close(): void;
}

/** What a subscription hands to the source it creates. */
export interface SourceContext {
  readonly transport: Transport;
  readonly channels: readonly string[];
  /** The cursor to connect from, asked at each connect. */
  readonly cursor: () => string;
  readonly backoff: Backoff;
  /** A read that gets nothing (no event, no heartbeat) for this long reconnects. */
  readonly watchdogMs: number;
  readonly signal: AbortSignal;
  readonly onState: (state: ConnectionState, error?: SseHubError) => void;
}

export type SourceFactory = (context: SourceContext) => ItemSource;

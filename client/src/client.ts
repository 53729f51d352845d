import { isChannelName } from './cursor.js';
import { publish, type PublishOptions, type PublishResult } from './publish.js';
import type { SourceFactory } from './source.js';
import { networkSource, Subscription, type SubscribeOptions } from './subscription.js';
import { tabSource } from './tabs.js';
import { Transport, type HistoryEvent, type TransportOptions } from './transport.js';
import type { ChannelMap, SchemaMap } from './types.js';

/** Options of `new SseHubClient`. */
export interface SseHubClientOptions<M extends object = ChannelMap> extends TransportOptions {
  /** Validators (any Standard Schema object, e.g. zod) applied to events before they are yielded. */
  readonly schemas?: SchemaMap<M>;
}

type ChannelName<M extends object> = string extends keyof M ? string : keyof M & string;
type EventName<M extends object, C extends string> = C extends keyof M ? keyof M[C] & string : string;
type Payload<M extends object, C extends string, E extends string> = C extends keyof M ? (E extends keyof M[C] ? M[C][E] : unknown) : unknown;

/**
 * The entry point: `subscribe` to channels, `publish` events, read `history`. Holds no
 * connection itself; each subscription has its own (or shares one between tabs).
 * `M` optionally maps channel and event names to payload types.
 */
export class SseHubClient<M extends object = ChannelMap> {
  private readonly transport: Transport;

  constructor(private readonly options: SseHubClientOptions<M> = {}) {
    this.transport = new Transport(options);
  }

  /**
   * Follows `channels` (one name or a list of 1 to the hub's MAX_STREAM_CHANNELS) on one
   * `GET /streams`. Throws a `TypeError` for an invalid name or cursor.
   */
  subscribe<C extends ChannelName<M>>(channels: C | readonly C[], options: SubscribeOptions = {}): Subscription<M, C> {
    const list: readonly C[] = typeof channels === 'string' ? [channels] : channels;
    if (list.length === 0) throw new TypeError('subscribe needs at least one channel');
    for (const channel of list) if (!isChannelName(channel)) throw new TypeError(`invalid channel name "${channel}"`);
    const source: SourceFactory = options.share === 'tabs' ? tabSource : networkSource;
    return new Subscription<M, C>(list, this.transport, options, this.options.schemas, source);
  }

  /**
   * Publishes `data` on `channel`; resolves with the event's id once the hub stored it (id
   * `null` on an ephemeral channel, where the hub stores nothing).
   * Retries network errors, timeouts and 5xx with the same `Idempotency-Key`, so the event is
   * stored once. Rejects with `SseHubError` subclasses carrying `status` and `code`.
   */
  publish<C extends ChannelName<M>, E extends EventName<M, C>>(
    channel: C,
    data: Payload<M, C, E>,
    options: PublishOptions<E> = {},
  ): Promise<PublishResult> {
    return publish(this.transport, channel, data, options);
  }

  /**
   * Up to `limit` (1–1000, default 100) events of `channel` with id > `after`, oldest first;
   * without `after`, the newest `limit` events.
   */
  history(channel: string, options: { after?: string; limit?: number; signal?: AbortSignal } = {}): Promise<HistoryEvent[]> {
    return this.transport.history(channel, options.after, options.limit ?? 100, options.signal).then((page) => page.events);
  }
}

import { Backoff, type BackoffOptions } from './backoff.js';
import { formatCursor, parseCursor } from './cursor.js';
import type { CursorStore } from './cursor-store.js';
import { AbortedError, SseHubError, ValidationError } from './errors.js';
import { Listeners } from './listeners.js';
import { NetworkSource } from './network-source.js';
import { HISTORY_PAGE_LIMIT, Sequencer, type Delivery } from './sequencer.js';
import type { ItemSource, SourceFactory } from './source.js';
import type { Transport } from './transport.js';
import type {
  ChannelMap,
  ConnectionState,
  EventItem,
  EventItemOf,
  GapItem,
  PresenceItem,
  SchemaMap,
  StandardSchemaV1,
  SubscriptionItem,
} from './types.js';

/** Options of `hub.subscribe`. */
export interface SubscribeOptions {
  /** Where to resume: a cursor saved from `sub.cursor`. Without one, every channel starts live. */
  readonly cursor?: string;
  /** Loads the cursor at start (when `cursor` is not given) and saves it as items are handled. */
  readonly cursorStore?: CursorStore;
  /** Aborting it closes the subscription. */
  readonly signal?: AbortSignal;
  /** Also yield `hub.join` / `hub.leave` as items of kind `presence`. Default false. */
  readonly presence?: boolean;
  /** `'tabs'`: one connection for every tab of this origin with the same channels (browsers). */
  readonly share?: 'tabs';
  /**
   * Reconnect when neither an event nor a heartbeat arrived for this long; also the longest a
   * connect or a history read (filling a hole) may take. Default 45 000 ms (3 × the hub's default HEARTBEAT_MS).
   */
  readonly watchdogMs?: number;
  /** Let go of the connection when the consumer has not asked for an item for this long. Default 60 000 ms. */
  readonly maxPauseMs?: number;
  readonly backoff?: BackoffOptions;
}

type Listener<T extends unknown[]> = (...args: T) => void | Promise<void>;
/** What `on(kind, listener)` passes to each kind of listener. */
export interface ListenerMap<M extends object, C extends string> {
  event: Listener<[EventItemOf<M, C>]>;
  gap: Listener<[GapItem<C>]>;
  presence: Listener<[PresenceItem<C>]>;
  state: Listener<[ConnectionState, SseHubError | undefined]>;
  error: Listener<[SseHubError]>;
}

const DEFAULT_WATCHDOG_MS = 45_000;
const DEFAULT_MAX_PAUSE_MS = 60_000;
const DONE = { done: true, value: undefined } as const;

/**
 * One subscription to one or more channels. Iterate it (`for await`) or listen with `on`; not
 * both. It yields every event of every channel once, in id order per channel, across
 * reconnects; `cursor` is the position right after the item most recently yielded.
 */
export class Subscription<M extends object = ChannelMap, C extends string = string>
  implements AsyncIterableIterator<SubscriptionItem<M, C>>
{
  /** The subscription's channels, distinct, in byte order. */
  readonly channels: readonly C[];
  private readonly delivered = new Map<string, string>();
  private readonly queue: Delivery[] = [];
  private readonly abort = new AbortController();
  // Untyped inside, so that a Subscription of some channels is assignable to one of any channel.
  private readonly listeners = new Listeners<keyof ListenerMap<ChannelMap, string>>();
  private sequencer: Sequencer | undefined;
  private source: ItemSource | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private pauseTimer: ReturnType<typeof setTimeout> | undefined;
  private pumping = false;
  private iterating = false;
  private closed = false;
  private currentState: ConnectionState = 'connecting';

  constructor(
    channels: readonly C[],
    private readonly transport: Transport,
    private readonly options: SubscribeOptions,
    private readonly schemas: SchemaMap<M> | undefined,
    private readonly createSource: SourceFactory,
  ) {
    this.channels = [...new Set(channels)].sort();
    for (const [channel, position] of parseCursor(options.cursor)) {
      if ((this.channels as readonly string[]).includes(channel)) this.delivered.set(channel, position);
    }
    if (options.signal?.aborted === true) this.closed = true;
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  /**
   * The position right after the item most recently yielded, as a `/streams` cursor
   * (`name=id,…`, names in byte order; `''` before any position is known). Save it after
   * handling an item; pass it back as `{ cursor }` to resume exactly there.
   */
  get cursor(): string {
    return formatCursor(this.delivered, this.channels);
  }

  /** The connection's state: `connecting`, `open`, `reconnecting` or `closed`. */
  get state(): ConnectionState {
    return this.currentState;
  }

  [Symbol.asyncIterator](): this {
    if (this.pumping) throw new TypeError('this subscription is consumed by on(); iterate it or listen, not both');
    this.iterating = true;
    return this;
  }

  /** The next item; `{ done: true }` once closed. Rejects with the `SseHubError` that ended it. */
  next(): Promise<IteratorResult<SubscriptionItem<M, C>>> {
    const result = this.chain.then(() => this.take(this.options.presence === true));
    this.chain = result.catch(() => undefined);
    return result;
  }

  /** Closes the subscription (what `break` in a `for await` does). */
  return(): Promise<IteratorResult<SubscriptionItem<M, C>>> {
    this.close();
    return Promise.resolve(DONE);
  }

  /**
   * Listens instead of iterating: `event`, `gap` and `presence` items (a listener's promise is
   * awaited before the next item: backpressure), `state` changes, and the `error` that ended
   * the subscription. Returns a function that removes the listener.
   */
  on<K extends keyof ListenerMap<M, C>>(type: K, listener: ListenerMap<M, C>[K]): () => void {
    const remove = this.listeners.add(type, listener);
    if ((type === 'event' || type === 'gap' || type === 'presence') && !this.pumping) {
      if (this.iterating) throw new TypeError('this subscription is being iterated; iterate it or listen, not both');
      this.pumping = true;
      void this.pump();
    }
    return remove;
  }

  /** Stops: releases the connection, saves the cursor, ends the iteration. Idempotent. */
  close(): void {
    if (this.currentState === 'closed') return;
    this.closed = true;
    this.abort.abort();
    clearTimeout(this.pauseTimer);
    this.source?.close();
    this.options.cursorStore?.save(this.cursor);
    void this.options.cursorStore?.flush();
    this.setState('closed');
  }

  /** Resolves once the cursor store has written the latest cursor (after `close()`, say). */
  async flush(): Promise<void> {
    this.options.cursorStore?.save(this.cursor);
    await this.options.cursorStore?.flush();
  }

  private async take(withPresence: boolean): Promise<IteratorResult<SubscriptionItem<M, C>>> {
    clearTimeout(this.pauseTimer);
    if (this.closed) return DONE;
    try {
      if (this.sequencer === undefined) await this.start();
      // The consumer asks for more, so it handled the previous item: its cursor may be saved.
      this.options.cursorStore?.save(this.cursor);
      for (;;) {
        if (this.closed) return DONE;
        const delivery = this.queue.shift();
        if (delivery === undefined) {
          await this.fill();
          continue;
        }
        const item = await this.release(delivery);
        if (item === undefined || (item.kind === 'presence' && !withPresence)) continue;
        this.armPauseTimer();
        return { done: false, value: item as SubscriptionItem<M, C> };
      }
    } catch (error) {
      if (this.closed && error instanceof AbortedError) return DONE;
      const failure = error instanceof SseHubError ? error : new SseHubError(String(error), 0, 'client_error', { cause: error });
      this.close();
      throw failure;
    }
  }

  private async start(): Promise<void> {
    if (this.options.cursor === undefined && this.options.cursorStore !== undefined) {
      for (const [channel, position] of parseCursor(await this.options.cursorStore.load())) {
        if ((this.channels as readonly string[]).includes(channel)) this.delivered.set(channel, position);
      }
    }
    const signal = this.abort.signal;
    const watchdogMs = this.options.watchdogMs ?? DEFAULT_WATCHDOG_MS;
    // A hole is filled before anything after it is yielded, so a history read that never ends
    // would stall the subscription for good: it gets the watchdog's time, then fill() reconnects.
    this.sequencer = new Sequencer(this.channels, this.delivered, (channel, after, limit) =>
      this.transport.history(channel, after, limit, signal, watchdogMs),
    HISTORY_PAGE_LIMIT);
    this.source = this.createSource({
      transport: this.transport,
      channels: this.channels,
      cursor: () => formatCursor(this.sequencer?.received ?? this.delivered, this.channels),
      backoff: new Backoff(this.options.backoff),
      watchdogMs,
      signal,
      onState: (state, error) => this.setState(state, error),
    });
  }

  /** Reads the next batch from the source and orders it into the queue. */
  private async fill(): Promise<void> {
    const source = this.source;
    const sequencer = this.sequencer;
    if (source === undefined || sequencer === undefined) return;
    const items = await source.next();
    for (const item of items) {
      try {
        this.queue.push(...(await sequencer.accept(item)));
      } catch (error) {
        if (this.closed) throw error;
        // The history could not be read: nothing of this item was passed on, so resuming from the
        // sequencer's position (the hub replays from there) loses nothing.
        source.reconnect();
        return;
      }
    }
  }

  /** Moves the cursor past `delivery` and returns its item, validated. */
  private async release(delivery: Delivery): Promise<EventItem | GapItem | PresenceItem | undefined> {
    if (delivery.item === undefined) {
      this.move(delivery.channel, delivery.position);
      return undefined;
    }
    const item = delivery.item.kind === 'event' ? await this.validate(delivery.item) : delivery.item;
    this.move(item.channel, delivery.position);
    return item;
  }

  /** Null: an ephemeral channel, which keeps no cursor entry; undefined: no change. */
  private move(channel: string, position: string | null | undefined): void {
    if (position === null) this.delivered.delete(channel);
    else if (position !== undefined) this.delivered.set(channel, position);
  }

  private async validate(item: EventItem): Promise<EventItem> {
    const byChannel = this.schemas as Record<string, Record<string, StandardSchemaV1 | undefined> | undefined> | undefined;
    const schema = byChannel?.[item.channel]?.[item.event];
    if (schema === undefined) return item;
    const result = await schema['~standard'].validate(item.data);
    if (result.issues !== undefined) {
      const detail = result.issues.map((issue) => issue.message).join('; ');
      throw new ValidationError(`event ${item.id} (${item.event}) of ${item.channel} failed validation: ${detail}`, item.channel, item.id, result.issues);
    }
    return { ...item, data: result.value };
  }

  /** A consumer that stops asking for items lets go of the stream; it resumes from the cursor. */
  private armPauseTimer(): void {
    clearTimeout(this.pauseTimer);
    this.pauseTimer = setTimeout(() => this.source?.suspend(), this.options.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS);
    (this.pauseTimer as unknown as { unref?: () => void }).unref?.();
  }

  private async pump(): Promise<void> {
    for (;;) {
      let result: IteratorResult<SubscriptionItem<M, C>>;
      try {
        const next = this.chain.then(() => this.take(true));
        this.chain = next.catch(() => undefined);
        result = await next;
      } catch (error) {
        await this.listeners.emit('error', error);
        return;
      }
      if (result.done === true) return;
      await this.listeners.emit(result.value.kind, result.value);
    }
  }

  private setState(state: ConnectionState, error?: SseHubError): void {
    if (this.currentState === state && error === undefined) return;
    this.currentState = state;
    void this.listeners.emit('state', state, error);
  }
}

/** The default source: the subscription's own `GET /streams`. */
export const networkSource: SourceFactory = (context) => new NetworkSource(context);


import type { Logger } from 'pino';
import type { EventBroker } from '../broker/broker';
import type { StoredEvent } from '../event';
import type { Metrics } from '../metrics';
import { ChannelFrame } from './frames';
import type { Subscription } from './subscription';

/** An event received from the broker, waiting for its turn in the channel's ordered delivery. */
interface InboxItem {
  readonly event: StoredEvent;
  readonly publishedAtMs: number | undefined;
}

/** Items accepted during one turn of the event loop, written to each stream as one buffer. */
export interface Batch {
  readonly items: ChannelFrame[];
  readonly publishedAtMs: number[];
}

/** What a channel needs from the hub. */
export interface ChannelContext {
  readonly broker: EventBroker;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly historySize: number;
  /** Called when the channel has a batch to write (the hub flushes once per event-loop turn). */
  readonly onBatch: (channel: HubChannel) => void;
}

/**
 * One channel with streams on this process: its ordered delivery. Ids reach the batch
 * consecutively: a hole in pub/sub delivery is filled from history before going on, and one that
 * history cannot fill becomes a `hub.gap` notice. Outages set `needsCatchUp`.
 */
export class HubChannel {
  readonly live = new Set<Subscription>();
  readonly replaying = new Set<Subscription>();
  /** Connects waiting for `ready`; the channel is kept while any are pending. */
  pendingConnects = 0;
  /** Newest id delivered to the channel's pipeline; null until the channel has an event. */
  lastId: number | null = null;
  initialized = false;
  /** Set when live delivery may have missed events (broker outage): read history first. */
  needsCatchUp = false;
  batch: Batch = { items: [], publishedAtMs: [] };
  ready: Promise<void> = Promise.resolve();
  /** Events received while initializing, repairing a hole or waiting for the broker. */
  private readonly inbox: InboxItem[] = [];
  private draining = false;

  constructor(
    readonly name: string,
    private readonly context: ChannelContext,
  ) {}

  get isUnused(): boolean {
    return this.live.size === 0 && this.replaying.size === 0 && this.pendingConnects === 0;
  }

  /** Every subscription, live or replaying. */
  *subscriptions(): Iterable<Subscription> {
    yield* this.live;
    yield* this.replaying;
  }

  /** Subscribes through the broker and learns the newest id; the hub awaits it as `ready`. */
  async initialize(): Promise<void> {
    await this.context.broker.subscribe(this.name);
    const newest = await this.context.broker.history(this.name, { limit: 1 });
    this.lastId = newest.lastId;
    this.initialized = true;
    if (this.inbox.length > 0) void this.drain();
  }

  /** Takes a live event from the broker. */
  receive(event: StoredEvent, publishedAtMs: number): void {
    // Fast path: in order and nothing queued, so deliver without touching the inbox. A channel
    // that had no events yet checks its first one against history too (null = 0).
    if (this.initialized && !this.draining && this.inbox.length === 0 && !this.needsCatchUp && event.id <= (this.lastId ?? 0) + 1) {
      this.accept(event, publishedAtMs);
      return;
    }
    this.inbox.push({ event, publishedAtMs });
    if (this.initialized) void this.drain();
  }

  /** After an outage: read what was missed from history now. */
  catchUpNow(): void {
    // Even if a drain during the outage already cleared the flag.
    this.needsCatchUp = true;
    if (this.initialized) void this.drain();
  }

  /** Takes the current batch, leaving an empty one. */
  takeBatch(): Batch {
    const batch = this.batch;
    this.batch = { items: [], publishedAtMs: [] };
    return batch;
  }

  /** Delivers the inbox in id order, reading history first wherever ids are missing. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        if (this.needsCatchUp) {
          this.needsCatchUp = false;
          await this.catchUp();
        }
        const next = this.inbox[0];
        if (!next) break;
        if (next.event.id > (this.lastId ?? 0) + 1) {
          const hadEvents = this.lastId !== null;
          await this.catchUp(next.event.id);
          if (hadEvents) this.context.metrics.gapsRepaired.inc();
        }
        this.inbox.shift();
        this.accept(next.event, next.publishedAtMs);
      }
    } catch (error) {
      // The broker went away mid-repair: resume when it is back (`resubscribed`).
      this.needsCatchUp = true;
      this.context.logger.warn({ err: error, channel: this.name }, 'catch-up from history failed; will retry');
    } finally {
      this.draining = false;
    }
  }

  /** Delivers history after the channel's last id (up to, not including, `beforeId` if given). */
  private async catchUp(beforeId = Infinity): Promise<void> {
    let after = this.lastId ?? 0;
    for (;;) {
      const page = await this.context.broker.history(this.name, { after, limit: this.context.historySize });
      for (const event of page.events) {
        // The event that revealed the hole comes from the inbox, with its publish time.
        if (event.id >= beforeId) return;
        this.accept(event, undefined);
      }
      // A page cut by HISTORY_PAGE_BYTES: read on, or the rest would become a false gap.
      const last = page.events[page.events.length - 1];
      if (!page.more || last === undefined) return;
      after = last.id;
    }
  }

  /** Takes an event into the channel's ordered delivery: drops repeats, flags holes. */
  private accept(event: StoredEvent, publishedAtMs: number | undefined): void {
    const lastId = this.lastId;
    if (lastId !== null && event.id <= lastId) return;
    if (lastId !== null && event.id > lastId + 1) {
      this.context.metrics.gapsUnrepairable.inc();
      this.enqueue(ChannelFrame.gap(this.name, lastId, event.id, event.id - 0.5));
    }
    this.lastId = event.id;
    this.enqueue(ChannelFrame.event(this.name, event));
    if (publishedAtMs !== undefined) this.batch.publishedAtMs.push(publishedAtMs);
    this.context.onBatch(this);
  }

  /** Adds an item to the current batch and to every replaying stream's queue. */
  private enqueue(item: ChannelFrame): void {
    this.batch.items.push(item);
    for (const subscription of this.replaying) subscription.replayQueue?.push(item);
  }
}

import type { Logger } from 'pino';
import type { EventBroker } from '../broker/broker';
import type { StoredEvent } from '../event';
import type { Metrics } from '../metrics';
import { ChannelFrame } from './frames';
import type { ReplayPage } from './replay-page';
import type { StreamChannel } from './stream-channel';

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

/** A replay page shared by the streams resuming from one point, and when its read began. */
interface SharedPage {
  readonly page: Promise<ReplayPage>;
  readonly readAtMs: number;
}

/** How long after its read began a replay page may still be shared (a storm's streams come ms apart). */
const SHARED_PAGE_MS = 1000;
/** The most replay pages one channel shares at a time. */
const MAX_SHARED_PAGES = 8;

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
 * One channel with streams on this process: its ordered delivery, and which of its streams are
 * live or still replaying. Ids reach the batch consecutively: a hole in pub/sub delivery is
 * filled from history before going on, and one that history cannot fill becomes a `hub.gap`
 * notice. An outage (`markOutage`) makes it read history before the next live event.
 */
export class HubChannel {
  private readonly live = new Set<StreamChannel>();
  private readonly replaying = new Set<StreamChannel>();
  /** Connects waiting for `ready`; the channel is kept while any are pending. */
  private pendingConnects = 0;
  private newestId: number | null = null;
  private initialized = false;
  /** Set when live delivery may have missed events (broker outage): read history first. */
  private needsCatchUp = false;
  private batch: Batch = { items: [], publishedAtMs: [] };
  private readyPromise: Promise<void> = Promise.resolve();
  /** Events received while initializing, repairing a hole or waiting for the broker. */
  private readonly inbox: InboxItem[] = [];
  /**
   * History pages read for replays since the last item was enqueued, by resume point: a
   * reconnect storm resumes thousands of streams from the same point, and they share one read,
   * its decoded events and their frames. Dropped when an item is enqueued (a page read before it
   * may lack it, and a stream that starts replaying after it would not hold it back) and when no
   * stream is replaying; an entry is used for at most SHARED_PAGE_MS after its read began (history
   * deleted or expired meanwhile is not served from it for longer than that).
   */
  private sharedPages: Map<number, SharedPage> | undefined;
  private draining = false;
  /** Ephemeral channels only: ephemeral events received, the ordering key of the next one. */
  private ephemeralCount = 0;

  constructor(
    readonly name: string,
    private readonly context: ChannelContext,
    /**
     * A channel of `history: 0`: its events have no id and no history, so there is nothing to
     * read at start, no hole to fill, no gap to report and no catch-up after an outage.
     */
    readonly ephemeral = false,
  ) {}

  /** Newest id delivered to the channel's pipeline; null until the channel has an event. */
  get lastId(): number | null {
    return this.newestId;
  }

  /** Settles once `start` has subscribed (rejecting with what `start`'s `onFailure` made of an error). */
  get ready(): Promise<void> {
    return this.readyPromise;
  }

  get isUnused(): boolean {
    return this.live.size === 0 && this.replaying.size === 0 && this.pendingConnects === 0;
  }

  /** How many streams follow the channel, live or replaying (the server API's channel list). */
  get streamCount(): number {
    return this.live.size + this.replaying.size;
  }

  /** The streams that get each batch from fan-out. */
  get liveStreams(): ReadonlySet<StreamChannel> {
    return this.live;
  }

  /** Every stream, live or replaying. */
  *streams(): Iterable<StreamChannel> {
    yield* this.live;
    yield* this.replaying;
  }

  /**
   * Subscribes through the broker and learns the newest id, as `ready`. Called once, by the hub
   * that created the channel; `onFailure` gives the error `ready` rejects with.
   */
  start(onFailure: (error: unknown) => Error): void {
    this.readyPromise = this.initialize().catch((error: unknown) => {
      throw onFailure(error);
    });
  }

  /** Keeps the channel while a connect waits for `ready` (until `unpinForConnect`). */
  pinForConnect(): void {
    this.pendingConnects++;
  }

  unpinForConnect(): void {
    this.pendingConnects--;
  }

  /** Adds a stream that starts live at the channel's newest id. */
  addLive(stream: StreamChannel): void {
    stream.advanceTo(this.ephemeral ? this.ephemeralCount : (this.newestId ?? 0));
    this.live.add(stream);
  }

  /** Adds a stream that replays history first: the channel's live items are held back for it. */
  startReplay(stream: StreamChannel): void {
    stream.startReplay();
    this.replaying.add(stream);
  }

  /** Ends a stream's replay: sends what it held back (minus what history gave), then it is live. */
  goLive(stream: StreamChannel): void {
    stream.writeItems(stream.takeHeldBack());
    if (stream.client.closed) return;
    this.stopReplaying(stream);
    this.live.add(stream);
  }

  remove(stream: StreamChannel): void {
    this.live.delete(stream);
    this.stopReplaying(stream);
  }

  /**
   * The page of history after `after` for `stream`, which is replaying this channel: the one
   * another replaying stream read since the last item was enqueued (within SHARED_PAGE_MS of
   * `nowMs`), else `read()`'s, shared from now on. A stream no longer replaying (it left) reads
   * alone, and nothing is kept for it.
   */
  replayPage(stream: StreamChannel, after: number, nowMs: number, read: () => Promise<ReplayPage>): Promise<ReplayPage> {
    if (!this.replaying.has(stream)) return read();
    const pages = (this.sharedPages ??= new Map<number, SharedPage>());
    const shared = pages.get(after);
    if (shared !== undefined && nowMs - shared.readAtMs <= SHARED_PAGE_MS) return shared.page;
    // A bound on what one channel keeps: a storm resumes from a few points, not from many.
    if (shared === undefined && pages.size >= MAX_SHARED_PAGES) pages.clear();
    const entry = { page: read(), readAtMs: nowMs };
    pages.set(after, entry);
    // A failed read is not kept: the next stream tries again.
    entry.page.catch(() => {
      if (this.sharedPages?.get(after) === entry) this.sharedPages.delete(after);
    });
    return entry.page;
  }

  /** The broker went down: live delivery may miss events, so history is read before the next one. */
  markOutage(): void {
    if (this.ephemeral) return;
    this.needsCatchUp = true;
  }

  /** Takes a live event from the broker. */
  receive(event: StoredEvent, publishedAtMs: number): void {
    // A stored event on a channel this process holds ephemeral (instances with different
    // CHANNELS_CONFIG files): its ids would mix with the local keys, so it is not delivered.
    if (this.ephemeral) return;
    // Fast path: in order and nothing queued, so deliver without touching the inbox. A channel
    // that had no events yet checks its first one against history too (null = 0).
    if (this.initialized && !this.draining && this.inbox.length === 0 && !this.needsCatchUp && event.id <= (this.newestId ?? 0) + 1) {
      this.accept(event, publishedAtMs);
      return;
    }
    this.inbox.push({ event, publishedAtMs });
    if (this.initialized) void this.drain();
  }

  /** Takes a live event of an ephemeral channel: no id, delivered as it comes (no order to repair). */
  receiveEphemeral(event: string, dataJson: string, publishedAtMs: number): void {
    if (!this.ephemeral || !this.initialized) return;
    this.enqueue(ChannelFrame.ephemeral(this.name, ++this.ephemeralCount, event, dataJson));
    this.batch.publishedAtMs.push(publishedAtMs);
    this.context.onBatch(this);
  }

  /** After an outage: read what was missed from history now. */
  catchUpNow(): void {
    if (this.ephemeral) return;
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

  private async initialize(): Promise<void> {
    await this.context.broker.subscribe(this.name);
    if (this.ephemeral) {
      this.initialized = true;
      return;
    }
    const newest = await this.context.broker.history(this.name, { limit: 1 });
    this.newestId = newest.lastId;
    this.initialized = true;
    if (this.inbox.length > 0) void this.drain();
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
        if (next.event.id > (this.newestId ?? 0) + 1) {
          const hadEvents = this.newestId !== null;
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
    let after = this.newestId ?? 0;
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
    const lastId = this.newestId;
    if (lastId !== null && event.id <= lastId) return;
    if (lastId !== null && event.id > lastId + 1) {
      this.context.metrics.gapsUnrepairable.inc();
      this.enqueue(ChannelFrame.gap(this.name, lastId, event.id, event.id - 0.5));
    }
    this.newestId = event.id;
    this.enqueue(ChannelFrame.event(this.name, event));
    if (publishedAtMs !== undefined) this.batch.publishedAtMs.push(publishedAtMs);
    this.context.onBatch(this);
  }

  /** Adds an item to the current batch and to every replaying stream's queue. */
  private enqueue(item: ChannelFrame): void {
    this.batch.items.push(item);
    for (const stream of this.replaying) stream.holdBack(item);
    this.sharedPages = undefined;
  }

  private stopReplaying(stream: StreamChannel): void {
    this.replaying.delete(stream);
    if (this.replaying.size === 0) this.sharedPages = undefined;
  }
}

import type { StoredEvent } from './event';
import type { HubClient, KeyedFrame } from './hub-client';

/** An event received from the broker, waiting for its turn in the channel's ordered delivery. */
export interface InboxItem {
  readonly event: StoredEvent;
  readonly publishedAtMs: number | undefined;
}

/** Frames accepted during one turn of the event loop, written to each client as one buffer. */
export interface Batch {
  frames: Buffer[];
  keys: number[];
  publishedAtMs: number[];
}

/** The hub's state of one channel that has clients. */
export class HubChannel {
  readonly live = new Set<HubClient>();
  readonly replaying = new Set<HubClient>();
  /** Connects waiting for `ready`; the channel is kept while any are pending. */
  pendingConnects = 0;
  /** Newest id delivered to the channel's pipeline; null until the channel has an event. */
  lastId: number | null = null;
  initialized = false;
  /** Events received while initializing, repairing a hole or waiting for the broker. */
  readonly inbox: InboxItem[] = [];
  draining = false;
  /** Set when live delivery may have missed events (broker outage): read history first. */
  needsCatchUp = false;
  batch: Batch = { frames: [], keys: [], publishedAtMs: [] };
  lastWriteAtMs = Date.now();
  ready: Promise<void> = Promise.resolve();

  constructor(readonly name: string) {}

  get clientCount(): number {
    return this.live.size + this.replaying.size;
  }

  get isUnused(): boolean {
    return this.clientCount === 0 && this.pendingConnects === 0;
  }

  /** Adds a frame to the current batch and to every replaying client's queue. */
  enqueue(keyed: KeyedFrame, publishedAtMs: number | undefined): void {
    this.batch.frames.push(keyed.frame);
    this.batch.keys.push(keyed.key);
    if (publishedAtMs !== undefined) this.batch.publishedAtMs.push(publishedAtMs);
    for (const client of this.replaying) client.replayQueue?.push(keyed);
  }

  /** Takes the current batch, leaving an empty one. */
  takeBatch(): Batch {
    const batch = this.batch;
    this.batch = { frames: [], keys: [], publishedAtMs: [] };
    return batch;
  }
}

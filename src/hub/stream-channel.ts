import type { HubClient } from './client';
import type { ChannelFrame } from './frames';

/**
 * How a stream writes events: `single` for one channel (`GET /channels/:c/stream`: the event's
 * data and id as stored), `multi` for `GET /streams` (envelope data, the stream's cursor as id).
 */
export type Framing = 'single' | 'multi';

/** Replaying holds the channel's live items back until history is sent; live takes them at once. */
type Phase = { readonly kind: 'replaying'; readonly queue: ChannelFrame[] } | { readonly kind: 'live' };

const LIVE: Phase = Object.freeze({ kind: 'live' });

/**
 * One channel of one stream: where the stream stands in the channel (its position) and its phase.
 * Fan-out reads what it needs per stream from this one record. The position moves only through
 * `advanceTo` / `writeItems`; the phase only through `startReplay` / `takeHeldBack` (the channel
 * calls them as it moves the stream between its replaying and live sets).
 */
export class StreamChannel {
  private position = 0;
  private phase: Phase = LIVE;

  constructor(
    readonly client: HubClient,
    readonly channel: string,
    /**
     * This channel's place in the stream's cursor (channels in ascending byte order); -1 for an
     * ephemeral channel, which has no cursor entry.
     */
    readonly index: number,
    readonly framing: Framing,
  ) {}

  /** False for an ephemeral channel (and any single-channel stream's cursor is its id line). */
  get hasCursorEntry(): boolean {
    return this.index >= 0;
  }

  /** The ordering key of the newest item of this channel written to the stream (or its start). */
  get lastSentKey(): number {
    return this.position;
  }

  get isReplaying(): boolean {
    return this.phase.kind === 'replaying';
  }

  /** Records that the stream has the channel's items up to `key` (written, or where it starts). */
  advanceTo(key: number): void {
    this.position = key;
  }

  /**
   * Writes items of this channel encoded for the stream, and advances past the last one.
   * `joinedSingles` gives their single-channel bytes already joined (a replay page shared by
   * many streams joins them once).
   */
  writeItems(items: readonly ChannelFrame[], joinedSingles?: () => Buffer): void {
    const last = items[items.length - 1];
    if (!last) return;
    const client = this.client;
    if (this.framing === 'single') client.write(joinedSingles === undefined ? concatSingles(items) : joinedSingles());
    else client.write(this.index >= 0 ? client.encodeMulti(this.index, items) : concatEnvelopes(items));
    this.position = last.key;
  }

  /** Enters the replaying phase: live items are held back from now on. */
  startReplay(): void {
    this.phase = { kind: 'replaying', queue: [] };
  }

  /** Holds a live item back while replaying (a live stream gets it through fan-out instead). */
  holdBack(item: ChannelFrame): void {
    if (this.phase.kind === 'replaying') this.phase.queue.push(item);
  }

  /** Leaves the replaying phase, returning the items held back that history did not already give. */
  takeHeldBack(): ChannelFrame[] {
    const queued = this.phase.kind === 'replaying' ? this.phase.queue : [];
    this.phase = LIVE;
    return queued.filter((item) => item.key > this.position);
  }
}

function concatSingles(items: readonly ChannelFrame[]): Buffer {
  return items.length === 1 ? (items[0] as ChannelFrame).single : Buffer.concat(items.map((item) => item.single));
}

function concatEnvelopes(items: readonly ChannelFrame[]): Buffer {
  return items.length === 1 ? (items[0] as ChannelFrame).multi : Buffer.concat(items.map((item) => item.multi));
}

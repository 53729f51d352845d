/**
 * The broker's side of presence: each process writes what it holds, every process hears joins
 * and leaves. Written per stream open/close and per refresh tick, never per event.
 */

/** One subscriber (`sub`) on one channel, as seen by this process. */
export interface PresenceEntry {
  readonly sub: string;
  /** This process's open streams of `sub` on the channel; 0 = its last one here closed. */
  readonly connections: number;
  /** The subscriber's `info` as compact JSON (an object), shown in presence and join/leave. */
  readonly infoJson: string;
}

/** This process's state of one channel, or of a few of its subscribers. */
export interface PresenceUpdate {
  readonly channel: string;
  /** Every stream this process has open on the channel, anonymous ones included; 0 = none. */
  readonly connections: number;
  /** The subscribers that changed (on a refresh: all of them); others stay as stored. */
  readonly members: readonly PresenceEntry[];
  /**
   * True when every count is as last written successfully: the store only renews expiries (an
   * entry it no longer has is written in full). A refresh after a failed write sends false.
   */
  readonly renewal?: boolean;
  /**
   * True for the first write after an outage: this process's entries are written back without
   * a leave or join (its streams stayed open; their joins were heard before the outage, even if
   * the keys expired meanwhile), and other processes' expired entries are left for the next
   * write, so every process that rode the outage out gets one refresh period to write its own.
   */
  readonly restore?: boolean;
  /**
   * True when `members` lists every sub this process holds on the channel (a refresh): only
   * then may the store release this process's own expired entries that it does not list.
   */
  readonly complete?: boolean;
}

/**
 * How many distinct subs one channel lists, by default. Past it a new sub's streams still count
 * in `connections`, but it is not listed and no join is announced until a place frees (it is
 * listed, with its join, at the first refresh after someone leaves).
 */
export const MAX_PRESENCE_MEMBERS = 10_000;

/** Who is on a channel, over every process sharing the broker (expired entries excluded). */
export interface PresenceSnapshot {
  readonly connections: number;
  /**
   * Distinct subs, each with its streams over all processes; in no particular order. At most
   * the store's member cap (MAX_PRESENCE_MEMBERS by default): past it, silently truncated.
   */
  readonly members: readonly PresenceEntry[];
}

export type PresenceSignal = 'join' | 'leave';

/**
 * Receives `join` when a sub holds its first stream on a subscribed channel (over all processes)
 * and `leave` when its last one closes or expires. `dataJson` is `{"channel","sub","info"}`,
 * ready to be sent as the frame's data. At most once, like events.
 */
export type PresenceListener = (channel: string, signal: PresenceSignal, dataJson: string) => void;

/**
 * Who is on which channel, over every process sharing the store. Implementations:
 * MemoryPresenceStore (one process) and RedisPresenceStore.
 */
export interface PresenceStore {
  /**
   * Stores this process's presence for some channels in one batch, with entries that expire
   * after `ttlMs` unless written again, and first removes any expired entry of those channels
   * (another process died; see `PresenceUpdate.restore` for the write after an outage).
   * Announces each sub's first arrival and last departure over all processes to every process
   * subscribed to the channel (`onPresence`). Rejects with BrokerUnavailableError when
   * unreachable; the next refresh writes the state again.
   */
  writePresence(updates: readonly PresenceUpdate[], ttlMs: number): Promise<void>;

  /** Who is on the channel over all processes. Rejects with BrokerUnavailableError when unreachable. */
  readPresence(channel: string): Promise<PresenceSnapshot>;

  /** Sets the single receiver of joins and leaves on channels the event broker subscribes to. */
  onPresence(listener: PresenceListener): void;
}

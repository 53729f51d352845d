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
}

/** Who is on a channel, over every process sharing the broker (expired entries excluded). */
export interface PresenceSnapshot {
  readonly connections: number;
  /** Distinct subs, each with its streams over all processes; in no particular order. */
  readonly members: readonly PresenceEntry[];
}

export type PresenceSignal = 'join' | 'leave';

/**
 * Receives `join` when a sub holds its first stream on a subscribed channel (over all processes)
 * and `leave` when its last one closes or expires. `dataJson` is `{"channel","sub","info"}`,
 * ready to be sent as the frame's data. At most once, like events.
 */
export type PresenceListener = (channel: string, signal: PresenceSignal, dataJson: string) => void;

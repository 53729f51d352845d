/** Whether the instance's broker serves publishes and subscriptions now. */
export type BrokerState = 'ready' | 'down';

/** One instance's figures, as `GET /api/stats` lists them (reported once per second). */
export interface InstanceStats {
  /** Unique per process: host name, pid and a random part. */
  readonly id: string;
  /** ISO time the process started. */
  readonly startedAt: string;
  readonly version: string;
  /** Short fingerprint of CHANNELS_CONFIG ('' without one), so a mismatch is visible. */
  readonly configFingerprint: string;
  readonly connections: number;
  readonly channels: number;
  /** Events stored and published through this instance in the last second. */
  readonly publishedPerSecond: number;
  /** Live events written to this instance's streams in the last second. */
  readonly deliveredPerSecond: number;
  /** Streams ended since start because their client was too slow. */
  readonly droppedSlow: number;
  /** Holes in live delivery filled from history since start. */
  readonly gapsRepaired: number;
  /** How late the last one-second tick ran: how long the event loop was blocked. */
  readonly eventLoopLagMs: number;
  readonly broker: BrokerState;
}

/** The sums over instances (`eventLoopLagMs` is the worst one, a sum of delays means nothing). */
export type StatsTotals = { readonly instances: number } & Pick<
  InstanceStats,
  'connections' | 'channels' | 'publishedPerSecond' | 'deliveredPerSecond' | 'droppedSlow' | 'gapsRepaired' | 'eventLoopLagMs'
>;

/** Adds up instances' figures. */
export function sumStats(instances: readonly InstanceStats[]): StatsTotals {
  const totals = { instances: instances.length, connections: 0, channels: 0, publishedPerSecond: 0, deliveredPerSecond: 0, droppedSlow: 0, gapsRepaired: 0, eventLoopLagMs: 0 };
  for (const instance of instances) {
    totals.connections += instance.connections;
    totals.channels += instance.channels;
    totals.publishedPerSecond += instance.publishedPerSecond;
    totals.deliveredPerSecond += instance.deliveredPerSecond;
    totals.droppedSlow += instance.droppedSlow;
    totals.gapsRepaired += instance.gapsRepaired;
    totals.eventLoopLagMs = Math.max(totals.eventLoopLagMs, instance.eventLoopLagMs);
  }
  return totals;
}

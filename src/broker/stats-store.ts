/** One instance's latest report: its figures and its channels' connection counts, as JSON text. */
export interface InstanceReport {
  readonly id: string;
  /** JSON of the instance's figures (GET /api/stats). */
  readonly figures: string;
  /** JSON of `[[channel, connections], …]` (GET /api/channels). */
  readonly channels: string;
}

/**
 * Where every instance leaves its figures once a second so any instance can answer for all
 * (GET /api/stats, /api/channels). A report is kept a few seconds; an instance that stops
 * reporting is left out of `readAll` within `windowMs`. Implementations: MemoryStatsStore,
 * RedisStatsStore. The contents are opaque here: the server API encodes and reads them.
 */
export interface StatsStore {
  /** Records this instance's latest report. Rejects with BrokerUnavailableError. */
  report(report: InstanceReport): Promise<void>;

  /** Removes an instance's report (a clean shutdown leaves at once). Never rejects. */
  remove(id: string): Promise<void>;

  /** Every instance's report made within the window, in no order. Rejects with BrokerUnavailableError. */
  readAll(): Promise<InstanceReport[]>;
}

/** Time for the stores' windows, so a test can move it. */
export interface StoreClock {
  now(): number;
}

/** A report is kept this long after it is made (reports come every second). */
export const STATS_REPORT_TTL_MS = 5000;
/** An instance whose last report is older than this is left out. */
export const STATS_WINDOW_MS = 10_000;

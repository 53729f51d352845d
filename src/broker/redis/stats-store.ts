import { STATS_REPORT_TTL_MS, STATS_WINDOW_MS, type InstanceReport, type StatsStore, type StoreClock } from '../stats-store';
import type { RedisKeys } from './keys';
import type { CommandRunner } from './scripts';

export interface RedisStatsStoreOptions {
  readonly commands: CommandRunner;
  readonly keys: RedisKeys;
  readonly clock?: StoreClock;
  /** How long a report's keys live; default STATS_REPORT_TTL_MS. */
  readonly reportTtlMs?: number;
  /** Reports older than this are left out; default STATS_WINDOW_MS. */
  readonly windowMs?: number;
}

/**
 * The StatsStore on Redis: per instance two keys with a short TTL (figures, channel counts) and
 * an index of instances scored by report time, all tagged `{#stats}` (one Cluster slot). A
 * report is one pipeline of four commands; a read is two.
 */
export class RedisStatsStore implements StatsStore {
  private readonly clock: StoreClock;
  private readonly ttlMs: number;
  private readonly windowMs: number;

  constructor(private readonly options: RedisStatsStoreOptions) {
    this.clock = options.clock ?? { now: Date.now };
    this.ttlMs = options.reportTtlMs ?? STATS_REPORT_TTL_MS;
    this.windowMs = options.windowMs ?? STATS_WINDOW_MS;
  }

  async report(report: InstanceReport): Promise<void> {
    const { keys } = this.options;
    const nowMs = this.clock.now();
    await this.options.commands.run(async (redis) => {
      const results = await redis
        .pipeline()
        .set(keys.statsFigures(report.id), report.figures, 'PX', this.ttlMs)
        .set(keys.statsChannels(report.id), report.channels, 'PX', this.ttlMs)
        .zadd(keys.statsIndex(), nowMs, report.id)
        // The index's dead entries go here, so it never outgrows the live instances for long.
        .zremrangebyscore(keys.statsIndex(), '-inf', nowMs - this.windowMs)
        .exec();
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
    });
  }

  async remove(id: string): Promise<void> {
    const { keys } = this.options;
    await this.options.commands
      .run((redis) => redis.pipeline().del(keys.statsFigures(id), keys.statsChannels(id)).zrem(keys.statsIndex(), id).exec())
      .catch(() => undefined);
  }

  async readAll(): Promise<InstanceReport[]> {
    const { keys } = this.options;
    const ids = await this.options.commands.run((redis) => redis.zrangebyscore(keys.statsIndex(), this.clock.now() - this.windowMs, '+inf'));
    if (ids.length === 0) return [];
    const values = await this.options.commands.run((redis) => redis.mget(...ids.map((id) => keys.statsFigures(id)), ...ids.map((id) => keys.statsChannels(id))));
    const reports: InstanceReport[] = [];
    ids.forEach((id, index) => {
      const figures = values[index];
      const channels = values[ids.length + index];
      // A key past its TTL: that instance stopped reporting.
      if (typeof figures === 'string' && typeof channels === 'string') reports.push({ id, figures, channels });
    });
    return reports;
  }
}

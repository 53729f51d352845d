import { STATS_WINDOW_MS, type InstanceReport, type StatsStore, type StoreClock } from '../stats-store';

/** The in-process StatsStore (one instance: only its own report). */
export class MemoryStatsStore implements StatsStore {
  private readonly reports = new Map<string, { readonly report: InstanceReport; readonly atMs: number }>();

  constructor(private readonly clock: StoreClock = { now: Date.now }) {}

  report(report: InstanceReport): Promise<void> {
    this.reports.set(report.id, { report, atMs: this.clock.now() });
    return Promise.resolve();
  }

  remove(id: string): Promise<void> {
    this.reports.delete(id);
    return Promise.resolve();
  }

  readAll(): Promise<InstanceReport[]> {
    const since = this.clock.now() - STATS_WINDOW_MS;
    return Promise.resolve([...this.reports.values()].filter((entry) => entry.atMs > since).map((entry) => entry.report));
  }
}

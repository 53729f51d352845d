import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Counter } from 'prom-client';
import type { Metrics } from '../metrics';
import type { InstanceStats } from './instance-stats';

/** Time as a dependency, so a test drives the ticks with fake timers. */
export interface Clock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What the sampler reads of the hub and the broker (both are live objects). */
export interface StatsSources {
  readonly hub: { readonly clientCount: number; readonly channelCount: number };
  readonly broker: { readonly ready: boolean };
  readonly metrics: Metrics;
}

export interface StatsSamplerOptions extends StatsSources {
  /** CHANNELS_CONFIG's fingerprint; '' without one. */
  readonly configFingerprint?: string;
  /** Default: the package's version. */
  readonly version?: string;
  /** Default: host name, pid and a random part. */
  readonly id?: string;
  /** Default 1000. */
  readonly intervalMs?: number;
  readonly clock?: Clock;
}

type ReportListener = (report: InstanceStats) => void;

/**
 * This instance's figures (API.md, `GET /api/stats`), computed once per `intervalMs` from the
 * metrics' counters: rates are the counters' growth since the previous sample, per second.
 * `latest` is always a complete report (zeros before the first tick). Costs four counter reads
 * a second, nothing per event.
 */
export class StatsSampler {
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly base: Pick<InstanceStats, 'id' | 'startedAt' | 'version' | 'configFingerprint'>;
  private previous: { atMs: number; published: number; delivered: number } | undefined;
  private current: InstanceStats;
  private timer: unknown;
  private expectedAtMs = 0;
  private stopped = false;
  private readonly listeners = new Set<ReportListener>();

  constructor(private readonly options: StatsSamplerOptions) {
    this.clock = options.clock ?? REAL_CLOCK;
    this.intervalMs = options.intervalMs ?? 1000;
    this.base = {
      id: options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      startedAt: new Date(this.clock.now()).toISOString(),
      version: options.version ?? packageVersion(),
      configFingerprint: options.configFingerprint ?? '',
    };
    this.current = this.compose(0, 0, 0, 0, 0);
  }

  /** The newest report. */
  get latest(): InstanceStats {
    return this.current;
  }

  /** Starts the one-second ticks (the first report comes one interval from now). */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Calls `listener` with every new report; returns the function that stops it. */
  onReport(listener: ReportListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Takes a sample now: reads the counters and makes the new report (`lagMs`: how late the
   * tick that asked for it ran). Resolves with it; listeners hear it too.
   */
  async sample(lagMs = 0): Promise<InstanceStats> {
    const { metrics } = this.options;
    const [published, delivered, droppedSlow, gapsRepaired] = await Promise.all([
      counterValue(metrics.eventsPublished),
      counterValue(metrics.eventsDelivered),
      counterValue(metrics.clientsDroppedSlow),
      counterValue(metrics.gapsRepaired),
    ]);
    const atMs = this.clock.now();
    const previous = this.previous ?? { atMs: atMs - this.intervalMs, published, delivered };
    const seconds = Math.max(atMs - previous.atMs, 1) / 1000;
    this.previous = { atMs, published, delivered };
    this.current = this.compose(
      round((published - previous.published) / seconds),
      round((delivered - previous.delivered) / seconds),
      droppedSlow,
      gapsRepaired,
      lagMs,
    );
    for (const listener of this.listeners) listener(this.current);
    return this.current;
  }

  /** Stops the ticks. */
  close(): void {
    this.stopped = true;
    this.clock.clearTimer(this.timer);
  }

  private schedule(): void {
    this.expectedAtMs = this.clock.now() + this.intervalMs;
    this.timer = this.clock.setTimer(() => {
      const lagMs = Math.max(0, this.clock.now() - this.expectedAtMs);
      void this.sample(lagMs).finally(() => {
        if (!this.stopped) this.schedule();
      });
    }, this.intervalMs);
  }

  private compose(publishedPerSecond: number, deliveredPerSecond: number, droppedSlow: number, gapsRepaired: number, eventLoopLagMs: number): InstanceStats {
    const { hub, broker } = this.options;
    return {
      ...this.base,
      connections: hub.clientCount,
      channels: hub.channelCount,
      publishedPerSecond,
      deliveredPerSecond,
      droppedSlow,
      gapsRepaired,
      eventLoopLagMs: Math.round(eventLoopLagMs),
      broker: broker.ready ? 'ready' : 'down',
    };
  }
}

async function counterValue(counter: Counter): Promise<number> {
  const metric = await counter.get();
  return metric.values[0]?.value ?? 0;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

let cachedVersion: string | undefined;

/** The package's version (package.json is two levels up from src/stats and dist/stats). */
function packageVersion(): string {
  cachedVersion ??= (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  return cachedVersion;
}

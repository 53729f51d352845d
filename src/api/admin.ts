import type { Logger } from 'pino';
import type { Brokers } from '../broker/create-broker';
import type { Hub } from '../hub/hub';
import type { Metrics } from '../metrics';
import { StatsSampler, type Clock } from '../stats/stats-sampler';
import { StatsStream } from '../stats/stats-stream';
import { BrokerControlPlane } from './broker-control-plane';
import type { ControlPlane } from './control-plane';

/** The server API's parts, and how to start and stop them. */
export interface AdminParts {
  readonly controlPlane: ControlPlane;
  readonly statsStream: StatsStream;
  /**
   * Listens for orders, loads the revocations and starts the one-second reports: call before
   * serving. Rejects with BrokerUnavailableError.
   */
  start(): Promise<void>;
  /** Ends the stats streams, stops the sampler and withdraws this instance's report. Never rejects. */
  close(): Promise<void>;
}

export interface AdminOptions {
  readonly hub: Hub;
  readonly brokers: Brokers;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly retryMs: number;
  readonly revocationTtlS: number;
  /** CHANNELS_CONFIG's fingerprint ('' without one). */
  readonly configFingerprint?: string;
  /** The sampler's ticks (tests drive them); default the real timers. */
  readonly clock?: Clock;
}

/** The sampler, the control plane over the broker's stores and the stats stream, not started. */
export function createAdmin(options: AdminOptions): AdminParts {
  const { hub, brokers, metrics, logger } = options;
  const sampler = new StatsSampler({ hub, broker: brokers.events, metrics, configFingerprint: options.configFingerprint ?? '', clock: options.clock });
  const controlPlane = new BrokerControlPlane({
    hub,
    events: brokers.events,
    control: brokers.control,
    stats: brokers.stats,
    metrics,
    sampler,
    logger,
    revocationTtlMs: options.revocationTtlS * 1000,
  });
  const statsStream = new StatsStream({ read: () => controlPlane.stats(), retryMs: options.retryMs, logger });
  return {
    controlPlane,
    statsStream,
    start: async () => {
      await controlPlane.start();
      sampler.start();
    },
    close: async () => {
      statsStream.close();
      sampler.close();
      await controlPlane.close();
    },
  };
}

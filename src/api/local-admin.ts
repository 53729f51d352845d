import type { Logger } from 'pino';
import type { Broker } from '../broker/broker';
import { AppError } from '../errors';
import type { Hub } from '../hub/hub';
import type { Metrics } from '../metrics';
import { StatsSampler } from '../stats/stats-sampler';
import { StatsStream } from '../stats/stats-stream';
import type { ControlPlane } from './control-plane';
import { LocalControlPlane, type HistoryDeleter } from './local-control-plane';

/** The server API's parts for one process, and how to stop them. */
export interface AdminParts {
  readonly controlPlane: ControlPlane;
  readonly statsStream: StatsStream;
  /** Ends the stats streams and stops the sampler. Never rejects. */
  close(): Promise<void>;
}

export interface LocalAdminOptions {
  readonly hub: Hub;
  readonly broker: Broker;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly retryMs: number;
  readonly revocationTtlS: number;
  /** CHANNELS_CONFIG's fingerprint ('' without one). */
  readonly configFingerprint?: string;
}

/**
 * The sampler (started), the in-process control plane and the stats stream, for a hub on the
 * in-process broker. A broker without `deleteHistory` answers history removal with 501.
 */
export function createLocalAdmin(options: LocalAdminOptions): AdminParts {
  const { hub, broker, metrics } = options;
  const sampler = new StatsSampler({ hub, broker, metrics, configFingerprint: options.configFingerprint ?? '' });
  sampler.start();
  const controlPlane = new LocalControlPlane({
    hub,
    broker,
    metrics,
    sampler,
    deleteHistory: historyDeleter(broker),
    revocationTtlMs: options.revocationTtlS * 1000,
  });
  const statsStream = new StatsStream({ read: () => controlPlane.stats(), retryMs: options.retryMs, logger: options.logger });
  return {
    controlPlane,
    statsStream,
    close: async () => {
      statsStream.close();
      sampler.close();
      await controlPlane.close();
    },
  };
}

function historyDeleter(broker: Broker): HistoryDeleter {
  const store = broker as Broker & { deleteHistory?: HistoryDeleter };
  if (typeof store.deleteHistory === 'function') return (channel) => (store.deleteHistory as HistoryDeleter).call(broker, channel);
  return () => Promise.reject(new AppError(501, 'not_implemented', 'this broker cannot delete a history yet'));
}

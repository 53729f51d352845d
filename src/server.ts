import cluster from 'node:cluster';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { EventBroker } from './broker/broker';
import { createBroker } from './broker/create-broker';
import { redisTargetOf } from './broker/redis/target';
import { readConfig, type Config } from './config';
import { ConfigError } from './errors';
import type { Hub } from './hub/hub';
import { wireApp, type WireOptions } from './http/wire-app';
import type { StoreClock } from './broker/stats-store';
import { createLogger } from './logger';
import { namespacesFromConfig } from './namespaces/from-config';
import { Metrics } from './metrics';
import type { PresenceTracker } from './presence/tracker';

const SHUTDOWN_DEADLINE_MS = 4000;

/** A listening server and the way to stop it in order. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly broker: EventBroker;
  readonly hub: Hub;
  readonly presence: PresenceTracker;
  /** CHANNELS_CONFIG's short fingerprint (the same file gives the same print), null without one. */
  readonly channelsFingerprint: string | null;
  /** Stops accepting, ends open streams, closes the broker. Never rejects. */
  close(): Promise<void>;
}

/** What tests may replace in a server. */
export interface ServerOptions extends WireOptions {
  /** The control and stats stores' time; default Date.now. */
  readonly storeClock?: StoreClock;
}

/**
 * Starts one server process: broker, hub, app, the server API's listener and revocations (loaded
 * before serving, so a revocation made before this instance started is honoured), listen.
 * Rejects when the broker cannot start.
 */
export async function startServer(config: Config, logger: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const metrics = new Metrics();
  // Before any connection: an invalid CHANNELS_CONFIG stops the start (ConfigError).
  const namespaces = namespacesFromConfig(config);
  const brokers = await createBroker({ ...config, redis: redisTargetOf(config), logger, storeClock: options.storeClock });
  const broker = brokers.events;
  const { hub, presence, listener, admin } = wireApp(config, brokers, metrics, logger, namespaces, options);
  try {
    await admin.start();
  } catch (error) {
    await admin.close();
    hub.close();
    presence.close();
    await brokers.close();
    throw error;
  }
  broker.on('down', () => logger.warn('broker unavailable: publishes and history answer 503 until it returns'));
  broker.on('resubscribed', () => {
    metrics.brokerReconnects.inc();
    logger.info('broker available again: resubscribed, catching up from history');
  });
  const server: Server = createServer(listener).listen(config.port, config.host);
  await once(server, 'listening');
  // Long-lived streams must not be cut by Node's request timeouts, so bodies get their own
  // deadline (BODY_TIMEOUT_MS, set by the request listener) and headers keep Node's.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5000;
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = once(server, 'close').catch(() => undefined);
      server.close();
      presence.close();
      hub.close();
      await admin.close();
      // Ended streams leave keep-alive sockets behind; close them as they go idle.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      const deadline = setTimeout(() => server.closeAllConnections(), SHUTDOWN_DEADLINE_MS);
      await closed;
      clearInterval(sweep);
      clearTimeout(deadline);
      await brokers.close();
    })();
    return closing;
  };
  return { url, port, broker, hub, presence, channelsFingerprint: namespaces.fingerprint, close };
}

function logStart(config: Config, logger: Logger, running: RunningServer): void {
  const channels = running.channelsFingerprint === null ? '' : `, CHANNELS_CONFIG fingerprint ${running.channelsFingerprint}`;
  logger.info(
    { address: running.url, broker: running.broker.description, historySize: config.historySize, channelsFingerprint: running.channelsFingerprint },
    `ssehub listening on ${running.url} (broker: ${running.broker.description}, history: ${config.historySize} events per channel${channels})`,
  );
  if (redisTargetOf(config) === undefined) {
    logger.warn('REDIS_URL is unset: using the in-process broker, which serves this one instance only and keeps history in memory');
  }
  if (config.sessionKeysGenerated) {
    logger.warn('SESSION_KEYS is unset: sessions are signed with a random key and end when the process restarts');
  }
}

async function runWorker(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  let running: RunningServer;
  try {
    running = await startServer(config, logger);
  } catch (error) {
    process.stderr.write(`ssehub: cannot start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  logStart(config, logger, running);
  const stop = (signal: string): void => {
    logger.info({ signal }, 'shutting down: ending streams, closing the broker');
    const force = setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS + 500);
    force.unref();
    void running.close().then(() => {
      logger.info('shutdown complete');
      logger.flush();
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

function runPrimary(config: Config): void {
  const logger = createLogger(config.logLevel);
  logger.info({ workers: config.workers }, `starting ${config.workers} workers sharing port ${config.port}`);
  for (let index = 0; index < config.workers; index++) cluster.fork();
  let stopping = false;
  const stop = (): void => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  cluster.on('exit', (worker, code) => {
    if (!stopping && code !== 0) {
      logger.error({ pid: worker.process.pid, code }, 'worker exited; stopping');
      stop();
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(stopping ? 0 : 1);
  });
}

function main(): void {
  let config: Config;
  try {
    config = readConfig(process.env);
    if (config.workers > 1 && redisTargetOf(config) === undefined) {
      throw new ConfigError('WORKERS>1 needs REDIS_URL (or Sentinel/Cluster): workers share events through Redis');
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`ssehub: ${error.message}\n`);
    process.exit(1);
  }
  if (config.workers > 1 && cluster.isPrimary) runPrimary(config);
  else void runWorker(config);
}

if (require.main === module) main();

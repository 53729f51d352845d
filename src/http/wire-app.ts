import { readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { join } from 'node:path';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { Access } from '../access/access';
import { createAdmin, type AdminParts } from '../api/admin';
import { createApp } from '../app';
import type { Brokers } from '../broker/create-broker';
import type { Config } from '../config';
import { Hub } from '../hub/hub';
import type { Metrics } from '../metrics';
import type { Clock } from '../stats/stats-sampler';
import { buildAsyncApiDocument } from '../asyncapi/document';
import { namespacesFromConfig } from '../namespaces/from-config';
import { PresenceTracker } from '../presence/tracker';
import { trackedByPolicy } from '../presence/tracked-channels';
import { createRequestListener } from '../request-listener';

// info.version of GET /asyncapi.json; package.json is two levels up from src/http and dist/http.
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** What wireApp builds: the parts server.ts starts and stops, and the listener it serves with. */
export interface WiredApp {
  readonly hub: Hub;
  readonly presence: PresenceTracker;
  readonly app: Koa;
  /** The one request listener (src/request-listener.ts): body deadlines, the fast publish path, Koa. */
  readonly listener: RequestListener;
  /** The server API's parts: `start()` them before serving, `close()` them at shutdown. */
  readonly admin: AdminParts;
}

/** What tests may replace. */
export interface WireOptions {
  /** The stats sampler's clock and timers; default the real ones. */
  readonly statsClock?: Clock;
}

/**
 * The hub, presence tracker, Koa app and the request listener that serves publishes itself and
 * hands the rest to the app, on a broker, wired; nothing listens yet. The caller closes the hub
 * and the tracker. `namespaces` defaults to loading CHANNELS_CONFIG (a ConfigError when invalid).
 */
export function wireApp(
  config: Config,
  brokers: Brokers,
  metrics: Metrics,
  logger: Logger,
  namespaces = namespacesFromConfig(config),
  options: WireOptions = {},
): WiredApp {
  const broker = brokers.events;
  // Built once: the namespaces cannot change while the process runs.
  const asyncApiJson = JSON.stringify(buildAsyncApiDocument(namespaces, { version: PACKAGE_VERSION }));
  // Every per-channel question goes to the policy, resolved once per channel name.
  const hub = new Hub({ ...config, broker, metrics, logger, isEphemeral: (channel) => namespaces.policy(channel).ephemeral });
  const presence = new PresenceTracker({
    store: brokers.presence,
    events: broker,
    isTracked: trackedByPolicy(namespaces),
    refreshMs: config.presenceRefreshMs,
    metrics,
    logger,
    broadcast: (channel, frame) => hub.broadcast(channel, frame),
  });
  const admin = createAdmin({ ...config, hub, brokers, metrics, logger, clock: options.statsClock, configFingerprint: namespaces.fingerprint ?? '' });
  // Revocation is checked where a token is verified: at connect time, never per event.
  const access = new Access({
    ...config,
    broker: brokers.tickets,
    logger,
    isPublic: (channel) => namespaces.policy(channel).public,
    isRevoked: (token) => admin.controlPlane.isRevoked(token),
  });
  const viewsDir = join(__dirname, '..', '..', 'views');
  const app = createApp({ config, broker, hub, presence, metrics, logger, access, viewsDir, namespaces, asyncApiJson, admin });
  const listener = createRequestListener(app, {
    broker,
    hub,
    presence,
    metrics,
    access,
    namespaces,
    logger,
    retryMs: config.retryMs,
    trustProxy: config.trustProxy,
    maxStreamChannels: config.maxStreamChannels,
    corsOrigins: config.corsOrigins,
    bodyTimeoutMs: config.bodyTimeoutMs,
  });
  return { hub, presence, app, listener, admin };
}

/*
 * The Koa application: every route, but most requests of two paths never reach it. Requests
 * arrive through the one request listener (src/request-listener.ts), which first gives each
 * request body its deadline (BODY_TIMEOUT_MS). A publish (`POST /channels/:channel/events`) and a
 * stream (`GET /channels/:channel/stream`, `GET /streams`, not on the chat channel), with the
 * path exactly as the router writes it and without an Origin listed in CORS_ORIGINS, are served
 * by the listener on Node's request and response (servePublish in src/routes/publish.ts,
 * serveChannelStream and serveChannelsStream in src/routes/channel-stream.ts), so the middleware below (request log,
 * error boundary, CORS, session) does not run for them; they answer their own errors in the same
 * JSON shape, and the listener logs them like requestLog does. Their routes below serve the rest.
 */
import cors from '@koa/cors';
import Router from '@koa/router';
import Koa from 'koa';
import session from 'koa-session';
import type { Logger } from 'pino';
import type { Access } from './access/access';
import type { EventBroker } from './broker/broker';
import type { Config } from './config';
import type { Hub } from './hub/hub';
import type { Metrics } from './metrics';
import type { AdminParts } from './api/admin';
import { apiRoutes } from './api/routes';
import type { Namespaces } from './namespaces';
import { errorBoundary } from './middleware/errors';
import { requestLog } from './middleware/request-log';
import { channelRoutes } from './routes/channels';
import { CHAT_PATHS, chatRoutes, isChatStream } from './routes/chat';
import { clientAssetRoutes } from './routes/client-assets';
import { diagnosticsRoutes } from './routes/diagnostics';
import { healthRoutes } from './routes/health';
import { adminPageRoutes } from './routes/admin-page';
import { presenceRoutes } from './routes/presence';
import type { PresenceTracker } from './presence/tracker';
import { streamsRoute } from './routes/streams';
import { ticketRoutes } from './routes/tickets';
import { koaReadRequest } from './access/read-request';

export interface AppDependencies {
  readonly config: Config;
  readonly broker: EventBroker;
  readonly hub: Hub;
  readonly presence: PresenceTracker;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly access: Access;
  readonly viewsDir: string;
  /** The server API's control plane and stats stream; without them `/api/*` answers 404. */
  readonly admin?: AdminParts;
  /** CHANNELS_CONFIG, loaded (or `Namespaces.none`): per-channel limits, contracts, history. */
  readonly namespaces: Namespaces;
  /** `GET /asyncapi.json`'s body, built once at start. */
  readonly asyncApiJson: string;
}

const SESSION_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

/** Wires the Koa application. No I/O, no environment: everything comes in `deps`. */
export function createApp(deps: AppDependencies): Koa {
  const { config, broker, hub, metrics, logger, access } = deps;
  const app = new Koa({ proxy: config.trustProxy, keys: [...config.sessionKeys] });
  // Errors are answered by errorBoundary; Koa's default handler would print them a second time.
  app.silent = true;

  app.use(requestLog(logger));
  app.use(errorBoundary(logger));
  const corsOrigins = new Set(config.corsOrigins);
  const handleCors = cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      return corsOrigins.has(origin) ? origin : '';
    },
    credentials: true,
    // DELETE: the server API's history removal (DELETE /api/channels/:channel/history).
    allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'Authorization', 'Idempotency-Key', 'Last-Event-ID'],
    exposeHeaders: [],
    keepHeadersOnError: true,
  });
  // For a request without Origin, or from an origin not in CORS_ORIGINS, @koa/cors only adds
  // `Vary: Origin` and goes on: done here without its async frame (most requests are such).
  app.use((ctx, next) => {
    const origin = ctx.get('Origin');
    if (origin !== '' && corsOrigins.has(origin)) return handleCors(ctx, next) as Promise<void>;
    ctx.vary('Origin');
    return next();
  });
  const chatSession = session(
    {
      key: 'ssehub.session',
      maxAge: SESSION_MAX_AGE_MS,
      httpOnly: true,
      sameSite: 'lax',
      signed: true,
    },
    app,
  );
  // Only the chat uses sessions; publishes skip the cookie work (measured: 5% of a publish). Chat
  // streams read the name once at connect, for presence.
  app.use((ctx, next) => (CHAT_PATHS.has(ctx.path) || isChatStream(ctx) ? chatSession(ctx, next) : next()));

  // One router: each extra one would add its own matching pass to every request.
  const router = new Router();
  healthRoutes(router, broker, metrics);
  channelRoutes(router, {
    hub,
    broker,
    presence: deps.presence,
    metrics,
    retryMs: config.retryMs,
    namespaces: deps.namespaces,
    access,
    logger,
  });
  presenceRoutes(router, { broker: deps.presence.store, presence: deps.presence, authorizeRead: (ctx, channels) => access.authorizeRead(koaReadRequest(ctx), channels) });
  streamsRoute(router, {
    hub,
    metrics,
    access,
    presence: deps.presence,
    retryMs: config.retryMs,
    maxStreamChannels: config.maxStreamChannels,
  });
  ticketRoutes(router, access);
  chatRoutes(router, { broker, metrics, access, maxEventBytes: config.maxEventBytes, namespaces: deps.namespaces, viewsDir: deps.viewsDir });
  router.get('/asyncapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = deps.asyncApiJson;
  });
  clientAssetRoutes(router);
  diagnosticsRoutes(router, { retryMs: config.retryMs, viewsDir: deps.viewsDir });
  if (deps.admin) apiRoutes(router, { ...deps.admin, adminToken: config.adminToken, maxEventBytes: config.maxEventBytes, logger, namespaces: deps.namespaces });
  adminPageRoutes(router, { adminToken: deps.admin ? config.adminToken : undefined, viewsDir: deps.viewsDir });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

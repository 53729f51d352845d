import type { IncomingMessage, RequestListener } from 'node:http';
import type Koa from 'koa';
import { setBodyDeadline } from './http/read-body';
import { isRequestLogged, logWhenClosed } from './middleware/request-log';
import { servePublish, type PublishOptions } from './routes/publish';

export interface RequestListenerOptions extends PublishOptions {
  readonly corsOrigins: readonly string[];
  /** BODY_TIMEOUT_MS: every request body must have arrived this long after dispatch. */
  readonly bodyTimeoutMs: number;
}

/** `/channels/<channel>/events`, exactly as the router's route writes it (then it agrees). */
const PUBLISH_PATH = /^\/channels\/([^/?#]+)\/events(?:\?|$)/;

/**
 * The server's one request listener: every request passes here first. It gives the request's
 * body its deadline (BODY_TIMEOUT_MS, 408 `request_timeout`) before any route can read it, so
 * every body has one whichever path serves it. A publish is served by servePublish straight from Node's
 * request: through Koa it cost twice the CPU of a bare Node server's publish (a context and its
 * request and response wrappers, five middleware frames, the router's matching pass), which
 * capped publishes per second at half of one. Everything else goes to Koa, and so does a
 * publish that needs Koa's handling: a CORS request (an Origin of CORS_ORIGINS), or a path
 * the router would match only after normalising it (case, a trailing slash).
 */
export function createRequestListener(app: Koa, options: RequestListenerOptions): RequestListener {
  const koa = app.callback();
  const corsOrigins = new Set(options.corsOrigins);
  const logger = options.logger;
  const bodyTimeoutMs = options.bodyTimeoutMs;
  return (req, res) => {
    setBodyDeadline(req, res, bodyTimeoutMs);
    const channel = req.method === 'POST' ? publishChannel(req) : undefined;
    const origin = req.headers.origin;
    if (channel === undefined || (origin !== undefined && corsOrigins.has(origin))) {
      void koa(req, res);
      return;
    }
    // What Koa's CORS step adds to every response for an origin it does not allow.
    res.setHeader('Vary', 'Origin');
    const path = (req.url as string).split('?', 1)[0] as string;
    if (isRequestLogged(logger, path)) logWhenClosed(logger, 'POST', path, res);
    servePublish(req, res, channel, options).catch((error: unknown) => {
      // servePublish answers its own errors; this is a bug in that answer: never a crash.
      logger.error({ err: error }, 'publish failed while answering');
      res.destroy();
    });
  };
}

/** The channel of a publish request's path (decoded like the router's params), or undefined. */
function publishChannel(req: IncomingMessage): string | undefined {
  const match = PUBLISH_PATH.exec(req.url ?? '');
  if (match === null) return undefined;
  try {
    return decodeURIComponent(match[1] as string);
  } catch {
    // The router keeps an undecodable parameter as it is; let it.
    return undefined;
  }
}

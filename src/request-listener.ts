import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type Koa from 'koa';
import { setBodyDeadline } from './http/read-body';
import { isRequestLogged, logWhenClosed } from './middleware/request-log';
import { serveChannelStream, serveChannelsStream, type ChannelStreamOptions } from './routes/channel-stream';
import { queryOf } from './routes/query';
import { CHAT_CHANNEL } from './routes/chat';
import { servePublish, type PublishOptions } from './routes/publish';

export interface RequestListenerOptions extends PublishOptions, ChannelStreamOptions {
  readonly corsOrigins: readonly string[];
  /** BODY_TIMEOUT_MS: every request body must have arrived this long after dispatch. */
  readonly bodyTimeoutMs: number;
}

/** `/channels/<channel>/events`, exactly as the router's route writes it (then it agrees). */
const PUBLISH_PATH = /^\/channels\/([^/?#]+)\/events(?:\?|$)/;
/** `/channels/<channel>/stream`, likewise. */
const STREAM_PATH = /^\/channels\/([^/?#]+)\/stream(?:\?|$)/;
/** `/streams`, likewise. */
const STREAMS_PATH = /^\/streams(?:\?|$)/;

/**
 * The server's one request listener: every request passes here first. It gives the request's
 * body its deadline (BODY_TIMEOUT_MS, 408 `request_timeout`) before any route can read it, so
 * every body has one whichever path serves it. The two requests that come by the thousand are
 * served straight from Node's request: a publish by servePublish (through Koa it cost twice the
 * CPU of a bare Node server's publish: a context and its request and response wrappers, five
 * middleware frames, the router's matching pass) and a stream by serveChannelStream or
 * serveChannelsStream (`/streams`; the same cost made opening streams twice as slow as a bare
 * server's). Everything else goes to Koa, and so does one of those that needs Koa's handling: a
 * CORS request (an Origin of CORS_ORIGINS), a stream on the chat channel (its presence reads the
 * chat session), or a path the router would match only after normalising it (case, a trailing
 * slash).
 */
export function createRequestListener(app: Koa, options: RequestListenerOptions): RequestListener {
  const koa = app.callback();
  const corsOrigins = new Set(options.corsOrigins);
  const logger = options.logger;
  const bodyTimeoutMs = options.bodyTimeoutMs;
  return (req, res) => {
    setBodyDeadline(req, res, bodyTimeoutMs);
    const origin = req.headers.origin;
    const serve = origin !== undefined && corsOrigins.has(origin) ? undefined : directRoute(req, res, options);
    if (serve === undefined) {
      void koa(req, res);
      return;
    }
    // What Koa's CORS step adds to every response for an origin it does not allow.
    res.setHeader('Vary', 'Origin');
    const method = req.method as string;
    const path = (req.url as string).split('?', 1)[0] as string;
    if (isRequestLogged(logger, path)) logWhenClosed(logger, method, path, res);
    const serving = serve();
    serving.catch((error: unknown) => {
      // Both answer their own errors; this is a bug in that answer: never a crash.
      logger.error({ err: error }, `${method} failed while answering`);
      res.destroy();
    });
  };
}

/**
 * What serves the request without Koa (a publish, a stream not on the chat channel, the path
 * exactly as the router writes it), or undefined: Koa serves it.
 */
function directRoute(req: IncomingMessage, res: ServerResponse, options: RequestListenerOptions): (() => Promise<void>) | undefined {
  if (req.method === 'POST') {
    const channel = channelOf(req, PUBLISH_PATH);
    return channel === undefined ? undefined : () => servePublish(req, res, channel, options);
  }
  if (req.method !== 'GET') return undefined;
  const channel = channelOf(req, STREAM_PATH);
  if (channel !== undefined) return channel === CHAT_CHANNEL ? undefined : () => serveChannelStream(req, res, channel, options);
  if (!STREAMS_PATH.test(req.url ?? '')) return undefined;
  const query = queryOf(req.url as string);
  return [query.channel ?? []].flat().includes(CHAT_CHANNEL) ? undefined : () => serveChannelsStream(req, res, query, options);
}

/** The channel of the request's path if it matches `path` (decoded like the router's params), or undefined. */
function channelOf(req: IncomingMessage, path: RegExp): string | undefined {
  const match = path.exec(req.url ?? '');
  if (match === null) return undefined;
  try {
    return decodeURIComponent(match[1] as string);
  } catch {
    // The router keeps an undecodable parameter as it is; let it.
    return undefined;
  }
}

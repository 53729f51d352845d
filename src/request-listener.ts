import type { IncomingMessage, RequestListener } from 'node:http';
import type Koa from 'koa';
import type { RequestQuery } from './access/read-request';
import { setBodyDeadline } from './http/read-body';
import { isRequestLogged, logWhenClosed } from './middleware/request-log';
import { queryOf, serveChannelStream, serveChannelsStream, type ChannelStreamOptions } from './routes/channel-stream';
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
    const direct = origin === undefined || !corsOrigins.has(origin);
    const publishing = direct && req.method === 'POST' ? channelOf(req, PUBLISH_PATH) : undefined;
    const streaming = direct && req.method === 'GET' && publishing === undefined ? channelOf(req, STREAM_PATH) : undefined;
    const several = direct && req.method === 'GET' && STREAMS_PATH.test(req.url ?? '') ? queryOf(req.url as string) : undefined;
    const chatInSeveral = several !== undefined && [several.channel ?? []].flat().includes(CHAT_CHANNEL);
    if (publishing === undefined && (streaming === undefined || streaming === CHAT_CHANNEL) && (several === undefined || chatInSeveral)) {
      void koa(req, res);
      return;
    }
    // What Koa's CORS step adds to every response for an origin it does not allow.
    res.setHeader('Vary', 'Origin');
    const method = req.method as string;
    const path = (req.url as string).split('?', 1)[0] as string;
    if (isRequestLogged(logger, path)) logWhenClosed(logger, method, path, res);
    const serving =
      publishing !== undefined
        ? servePublish(req, res, publishing, options)
        : streaming !== undefined
          ? serveChannelStream(req, res, streaming, options)
          : serveChannelsStream(req, res, several as RequestQuery, options);
    serving.catch((error: unknown) => {
      // Both answer their own errors; this is a bug in that answer: never a crash.
      logger.error({ err: error }, `${method} failed while answering`);
      res.destroy();
    });
  };
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

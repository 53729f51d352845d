import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import type { Logger } from 'pino';
import { NodeReadRequest } from '../access/read-request';
import { assertChannel, parseResumePoint } from '../event';
import { AppError } from '../errors';
import { answerError } from '../http/answer';
import { serveStream, type StreamRequest, type StreamServingOptions } from './serve-stream';

export interface ChannelStreamOptions extends StreamServingOptions {
  readonly logger: Logger;
  /** TRUST_PROXY: the request's own origin (the cookie's same-site check) from X-Forwarded-*. */
  readonly trustProxy: boolean;
}

/**
 * `GET /channels/:channel/stream` on Node's request and response, for a stream that needs nothing
 * of Koa (request-listener.ts decides: no Origin of CORS_ORIGINS, not the chat channel, whose
 * presence reads the chat session). The same validation, authorization and serving as the Koa
 * route (routes/channels.ts), with errors answered in the same JSON shape: opening a stream
 * through Koa cost a context with its request and response wrappers, five middleware frames and
 * the router's matching pass, a third of the CPU of a bare Node server's whole connect.
 */
export async function serveChannelStream(req: IncomingMessage, res: ServerResponse, channelParam: string, options: ChannelStreamOptions): Promise<void> {
  try {
    const name = assertChannel(channelParam);
    const query = queryOf(req.url as string);
    const lastEventId = req.headers['last-event-id'];
    const resumePoint = parseResumePoint((typeof lastEventId === 'string' && lastEventId) || singleValue(query, 'lastEventId'));
    const request: StreamRequest = {
      req,
      res,
      read: new NodeReadRequest(req, res, query, options.trustProxy),
      chatName: () => null,
      takeOver: () => undefined,
    };
    await serveStream(request, options, [{ name, resumePoint }], 'single');
  } catch (error) {
    answerError(req, res, error, options.logger);
  }
}

const NO_QUERY: ParsedUrlQuery = Object.freeze(Object.create(null) as ParsedUrlQuery);

/** The query string parsed as Koa's `ctx.query` parses it. */
function queryOf(url: string): ParsedUrlQuery {
  const start = url.indexOf('?');
  return start === -1 ? NO_QUERY : parseQuery(url.slice(start + 1));
}

function singleValue(query: ParsedUrlQuery, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new AppError('invalid_last_event_id', `give "${name}" at most once`);
  return value;
}

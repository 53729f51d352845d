import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { NodeReadRequest, type RequestQuery } from '../access/read-request';
import { assertChannel, parseResumePoint } from '../event';
import { answerError } from '../http/answer';
import { serveStream, type StreamRequest, type StreamServingOptions } from './serve-stream';
import { queryOf, requestedLastEventId } from './query';
import { requestedChannels, requestedCursor } from './streams';

export interface ChannelStreamOptions extends StreamServingOptions {
  readonly logger: Logger;
  /** TRUST_PROXY: the request's own origin (the cookie's same-site check) from X-Forwarded-*. */
  readonly trustProxy: boolean;
  /** MAX_STREAM_CHANNELS, for `GET /streams`. */
  readonly maxStreamChannels: number;
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
    const resumePoint = parseResumePoint(requestedLastEventId(headerOf(req, 'last-event-id'), query));
    await serveStream(directRequest(req, res, query, options), options, [{ name, resumePoint }], 'single');
  } catch (error) {
    answerError(req, res, error, options.logger);
  }
}

/**
 * `GET /streams?channel=a&channel=b` on Node's request and response, likewise (routes/streams.ts
 * is its Koa route, for a CORS request or one that follows the chat channel). `query` is the
 * request's, as queryOf read it.
 */
export async function serveChannelsStream(req: IncomingMessage, res: ServerResponse, query: RequestQuery, options: ChannelStreamOptions): Promise<void> {
  try {
    const names = requestedChannels(query.channel, options.maxStreamChannels);
    const cursor = requestedCursor(requestedLastEventId(headerOf(req, 'last-event-id'), query));
    // Entries for channels not on the stream are ignored; a channel without one starts live.
    const channels = names.map((name) => ({ name, resumePoint: cursor?.get(name) ?? null }));
    await serveStream(directRequest(req, res, query, options), options, channels, 'multi');
  } catch (error) {
    answerError(req, res, error, options.logger);
  }
}

function directRequest(req: IncomingMessage, res: ServerResponse, query: RequestQuery, options: ChannelStreamOptions): StreamRequest {
  return {
    req,
    res,
    read: new NodeReadRequest(req, res, query, options.trustProxy),
    // Only a stream on the chat channel counts its session's name (it goes through Koa).
    chatName: () => null,
    takeOver: () => undefined,
  };
}

function headerOf(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return typeof value === 'string' ? value : '';
}

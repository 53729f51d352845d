import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PassThrough } from 'node:stream';
import { encodeRetry } from './encode';
import { feedResponse } from './feed-response';
import { releaseRequestState } from './release-request';

/** Every header of an event stream, in one place. `X-Accel-Buffering: no` stops nginx buffering. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
});

/**
 * Turns the response into an open event stream fed by `stream`, and destroys `stream` when the
 * response closes, so a client that leaves makes `stream` emit `close`. Writes the response
 * itself: a Koa route sets `ctx.respond = false` first.
 */
export function openEventStream(req: IncomingMessage, res: ServerResponse, stream: PassThrough): void {
  const socket = req.socket;
  // The client left while the stream was being authorized and registered: its 'close' has
  // passed, so nothing would ever end the stream. Ending it now unregisters it.
  if (socket.destroyed || res.destroyed) {
    stream.destroy();
    return;
  }
  // Streams are long-lived and latency-sensitive: no idle timeout, no Nagle delay. (No TCP
  // keep-alive either: heartbeats keep the connection from ever idling long enough to use it.)
  req.setTimeout(0);
  socket.setTimeout(0);
  socket.setNoDelay(true);
  // Koa would pipe the body with stream.pipeline() and watch the response twice with
  // on-finished: closures and listeners held for the stream's whole life. The stream feeds the
  // response itself, with listeners shared by every stream, and what the request phase left
  // behind is released once the headers are out.
  res.writeHead(200, SSE_HEADERS);
  feedResponse(stream, res);
  releaseRequestState(req, res);
}

/**
 * Answers a stream request that cannot be served now: 200 with only a `retry:` of 5 to 15 times
 * `retryMs` (random, so refused clients do not all return at once), then the end. A non-200
 * would make browsers stop reconnecting for good. Writes the response itself, like openEventStream.
 */
export function refuseEventStream(res: ServerResponse, retryMs: number): void {
  const body = encodeRetry(retryMs * (5 + Math.random() * 10));
  res.writeHead(200, { ...SSE_HEADERS, Connection: 'close', 'Content-Length': body.length });
  res.end(body);
}

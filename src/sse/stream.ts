import type { PassThrough } from 'node:stream';
import type { Context } from 'koa';
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
 * response closes, so a client that leaves makes `stream` emit `close`.
 */
export function openEventStream(ctx: Context, stream: PassThrough): void {
  const socket = ctx.req.socket;
  // The client left while the stream was being authorized and registered: its 'close' has
  // passed, so nothing would ever end the stream. Ending it now unregisters it.
  if (socket.destroyed || ctx.res.destroyed) {
    ctx.respond = false;
    stream.destroy();
    return;
  }
  // Streams are long-lived and latency-sensitive: no idle timeout, no Nagle delay.
  ctx.req.setTimeout(0);
  socket.setTimeout(0);
  socket.setNoDelay(true);
  socket.setKeepAlive(true);
  // Koa would pipe the body with stream.pipeline() and watch the response twice with
  // on-finished: closures and listeners held for the stream's whole life. The stream feeds the
  // response itself, with listeners shared by every stream, and what the request phase left
  // behind is released once the headers are out.
  ctx.respond = false;
  const res = ctx.res;
  res.writeHead(200, SSE_HEADERS);
  feedResponse(stream, res);
  releaseRequestState(ctx.req, res);
}

/**
 * Answers a stream request that cannot be served now: 200 with only a `retry:` of 5 to 15 times
 * `retryMs` (random, so refused clients do not all return at once), then the end. A non-200
 * would make browsers stop reconnecting for good.
 */
export function refuseEventStream(ctx: Context, retryMs: number): void {
  ctx.status = 200;
  ctx.set(SSE_HEADERS);
  ctx.set('Connection', 'close');
  ctx.body = encodeRetry(retryMs * (5 + Math.random() * 10));
}

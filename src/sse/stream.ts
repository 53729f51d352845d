import type { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { encodeRetry } from './encode';

/** Every header of an event stream, in one place. `X-Accel-Buffering: no` stops nginx buffering. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
});

/**
 * Turns the response into an open event stream fed by `stream`. Koa pipes the body into the
 * response and destroys it when the response closes, so a client that leaves makes `stream`
 * emit `close`.
 */
export function openEventStream(ctx: Context, stream: PassThrough): void {
  const socket = ctx.req.socket;
  // Streams are long-lived and latency-sensitive: no idle timeout, no Nagle delay.
  ctx.req.setTimeout(0);
  socket.setTimeout(0);
  socket.setNoDelay(true);
  socket.setKeepAlive(true);
  // Koa would pipe the body with stream.pipeline() and watch the response twice with
  // on-finished: about 30 closures and listeners per open stream, held for its whole life. A
  // plain pipe and one close listener do the same job for a body that never ends by itself.
  ctx.respond = false;
  const res = ctx.res;
  res.writeHead(200, SSE_HEADERS);
  stream.pipe(res);
  res.once('close', () => stream.destroy());
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

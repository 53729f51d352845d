import type { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { encodeRetry } from './encode';
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
  // Streams are long-lived and latency-sensitive: no idle timeout, no Nagle delay.
  ctx.req.setTimeout(0);
  socket.setTimeout(0);
  socket.setNoDelay(true);
  socket.setKeepAlive(true);
  // Koa would pipe the body with stream.pipeline() and watch the response twice with
  // on-finished, and stream.pipe() alone adds about ten closures and once-wrappers: all held for
  // the stream's whole life. A body that never ends by itself needs only this: forward each
  // chunk, pause while the socket is full (so what a slow client has not taken stays in `stream`,
  // where the hub measures it), end with it, and destroy it when the client leaves.
  ctx.respond = false;
  const res = ctx.res;
  res.writeHead(200, SSE_HEADERS);
  const resume = (): void => {
    stream.resume();
  };
  stream.on('data', (chunk: Buffer) => {
    if (!res.write(chunk)) {
      stream.pause();
      res.once('drain', resume);
    }
  });
  stream.on('end', () => res.end());
  // 'close' comes once: on() spares the wrapper once() would keep for the stream's life.
  res.on('close', () => stream.destroy());
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

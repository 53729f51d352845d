import type { Context } from 'koa';
import { SSE_HEADERS } from '../sse/stream';

/**
 * Answers a `HEAD` on a stream route once the request has been validated and authorized as its
 * `GET` would be: 200 with the event-stream headers, no body, and the response ends (Koa ends a
 * HEAD without writing a body). Nothing is registered with the hub, so a HEAD opens no stream,
 * counts no client and announces no presence. False for any other method: serve the stream.
 */
export function answeredAsHead(ctx: Context): boolean {
  if (ctx.method !== 'HEAD') return false;
  ctx.status = 200;
  ctx.set(SSE_HEADERS);
  return true;
}

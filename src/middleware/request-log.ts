import type { Middleware } from 'koa';
import type { Logger } from 'pino';

/**
 * One log line per request when its response ends (for a stream, when the client leaves).
 * Logs method, path, status and duration; never bodies, queries, cookies or tokens.
 */
export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const startedAt = performance.now();
    ctx.res.once('close', () => {
      logger.info(
        { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - startedAt) },
        'request',
      );
    });
    await next();
  };
}

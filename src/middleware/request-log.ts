import type { Middleware } from 'koa';
import type { Logger } from 'pino';

/** Probes and scrapes arrive every few seconds; at info they would drown the log. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One log line per request when its response ends (for a stream, when the client leaves); probes
 * and metric scrapes at debug. Logs method, path, status and duration; never bodies, queries,
 * cookies or tokens.
 */
export function requestLog(logger: Logger): Middleware {
  // Not async: when nothing is logged (LOG_LEVEL above info, or a probe at info) the request
  // passes straight through, without an async frame and a promise of its own per request.
  return (ctx, next) => {
    if (!logger.isLevelEnabled('debug') && (!logger.isLevelEnabled('info') || QUIET_PATHS.has(ctx.path))) return next();
    const startedAt = performance.now();
    ctx.res.once('close', () => {
      const level = QUIET_PATHS.has(ctx.path) ? 'debug' : 'info';
      logger[level](
        { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - startedAt) },
        'request',
      );
    });
    return next();
  };
}

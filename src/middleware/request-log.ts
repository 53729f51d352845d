import type { ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';

/** Probes and scrapes arrive every few seconds; at info they would drown the log. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** True when a request to `path` is logged at the logger's level. */
export function isRequestLogged(logger: Logger, path: string): boolean {
  return logger.isLevelEnabled('debug') || (logger.isLevelEnabled('info') && !QUIET_PATHS.has(path));
}

/** Logs the request when its response closes: method, path, status and duration. */
export function logWhenClosed(logger: Logger, method: string, path: string, res: ServerResponse): void {
  const startedAt = performance.now();
  res.once('close', () => {
    const level = QUIET_PATHS.has(path) ? 'debug' : 'info';
    logger[level]({ method, path, status: res.statusCode, ms: Math.round(performance.now() - startedAt) }, 'request');
  });
}

/**
 * One log line per request when its response ends (for a stream, when the client leaves); probes
 * and metric scrapes at debug. Logs method, path, status and duration; never bodies, queries,
 * cookies or tokens.
 */
export function requestLog(logger: Logger): Middleware {
  // Not async: when nothing is logged (LOG_LEVEL above info, or a probe at info) the request
  // passes straight through, without an async frame and a promise of its own per request.
  return (ctx, next) => {
    if (isRequestLogged(logger, ctx.path)) logWhenClosed(logger, ctx.method, ctx.path, ctx.res);
    return next();
  };
}

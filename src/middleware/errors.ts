import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { AuthUnavailableError } from '../access/auth-hook';
import { describeError, errorBody } from '../errors';

const UNMATCHED: Readonly<Record<number, string>> = { 404: 'not_found', 405: 'method_not_allowed', 501: 'not_implemented' };

/**
 * First in the chain: turns AppError (and Koa's own exposed 4xx errors) into
 * `{"error":{"code","message"}}`; anything else is logged and answered 500 without details.
 * Once headers are sent (an open stream) an error can only be logged.
 */
export function errorBoundary(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // Unmatched routes and methods get the same JSON error body as every other error.
      if (ctx.respond !== false && ctx.body == null && UNMATCHED[ctx.status] !== undefined) {
        const status = ctx.status;
        const code = UNMATCHED[status] as string;
        ctx.body = { error: { code, message: `${ctx.method} ${ctx.path}: ${code.replace(/_/g, ' ')}` } };
        // Koa turns an implicit 404 into 200 once a body is set.
        ctx.status = status;
      }
    } catch (error) {
      if (ctx.headerSent) {
        logger.error({ err: error }, 'error after the response started');
        return;
      }
      const described = describeError(error);
      const status = described.status;
      // The hook's failures are logged by the hook itself, once per kind per minute.
      if (status >= 500 && !(error instanceof AuthUnavailableError)) logger.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = status;
      ctx.body = errorBody(described);
    }
  };
}

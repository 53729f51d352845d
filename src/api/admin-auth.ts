import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { bearerCredential } from '../access/credentials';
import { AppError } from '../errors';

/**
 * The guard of every `/api/*` route: without ADMIN_TOKEN the route does not exist (404
 * `not_found`); otherwise the Authorization header must carry it (401 `unauthorized` with
 * `WWW-Authenticate: Bearer`, plus `error="invalid_token"` when another token was given).
 * Never a cookie or a ticket. Compared in constant time on equal-length digests.
 */
export function requireAdmin(adminToken: string | undefined): Middleware {
  const expected = adminToken === undefined ? undefined : digest(adminToken);
  return (ctx, next) => {
    if (expected === undefined) throw notFound(ctx.method, ctx.path);
    const credential = bearerCredential(ctx);
    if (credential === null) {
      ctx.set('WWW-Authenticate', 'Bearer realm="ssehub-admin"');
      throw new AppError('unauthorized', 'the server API needs Authorization: Bearer <ADMIN_TOKEN>');
    }
    if (credential.carrier === 'malformed' || !timingSafeEqual(digest(credential.token), expected)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="ssehub-admin", error="invalid_token"');
      throw new AppError('unauthorized', 'the bearer token is not ADMIN_TOKEN');
    }
    return next();
  };
}

/** What an unmatched route answers, so a hub without ADMIN_TOKEN does not reveal the API. */
export function notFound(method: string, path: string): AppError {
  return new AppError('not_found', `${method} ${path}: not found`);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

import { AppError } from '../errors';
import type { ReadRequest } from './read-request';

/**
 * Refuses (403 `cross_site`) a read that rides on ambient browser state (the `ssehub_token`
 * cookie, or the headers forwarded to the hook) when its `Origin` is present and is neither the
 * request's own origin nor in CORS_ORIGINS: another site could otherwise open an EventSource with
 * the user's cookie. Without `Origin` (curl, scripts, same-origin GETs of some browsers) it passes.
 * The own origin is scheme, host and port as the request arrived; behind TRUST_PROXY Koa takes
 * them from X-Forwarded-Proto / X-Forwarded-Host.
 */
export function assertSameSiteRead(request: ReadRequest, corsOrigins: ReadonlySet<string>): void {
  if (isSameSiteRead(request, corsOrigins)) return;
  throw new AppError('cross_site', 'a cookie-authorized read from another site is refused (its origin is not in CORS_ORIGINS)');
}

/** True when the request has no `Origin`, its own origin, or one listed in CORS_ORIGINS. */
export function isSameSiteRead(request: ReadRequest, corsOrigins: ReadonlySet<string>): boolean {
  const origin = request.get('Origin');
  if (origin === '' || corsOrigins.has(origin)) return true;
  return origin === request.ownOrigin();
}

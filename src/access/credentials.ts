import type { HeaderAccess, ReadRequest } from './read-request';

/** The cookie a same-site page sets so its EventSource carries the token. */
export const TOKEN_COOKIE = 'ssehub_token';

/**
 * Where a reader's credential came from. `malformed` is a credential that is present but cannot
 * be one (an Authorization header that is not `Bearer <token>`, a repeated ticket): it is
 * refused like an invalid token, never treated as absent.
 */
export type Credential =
  | { readonly carrier: 'header'; readonly token: string }
  | { readonly carrier: 'ticket'; readonly ticket: string }
  | { readonly carrier: 'cookie'; readonly token: string }
  | { readonly carrier: 'malformed'; readonly reason: string };

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The reader's credential by API.md's precedence: the Authorization header, then `?ticket=`,
 * then the `ssehub_token` cookie; only the first one present counts (a bad header is refused,
 * not passed over for the cookie). Null when none is present. Empty values count as absent.
 */
export function readCredential(request: ReadRequest): Credential | null {
  return bearerCredential(request) ?? ticketCredential(request) ?? cookieCredential(request);
}

/** The Authorization header's bearer token (the only carrier for publishing and for tickets). */
export function bearerCredential(request: Pick<HeaderAccess, 'get'>): Extract<Credential, { carrier: 'header' | 'malformed' }> | null {
  const header = request.get('Authorization');
  if (header === '') return null;
  const token = BEARER.exec(header)?.[1];
  return token === undefined ? { carrier: 'malformed', reason: 'the Authorization header is not "Bearer <token>"' } : { carrier: 'header', token };
}

function ticketCredential(request: ReadRequest): Credential | null {
  const value = request.ticket();
  if (Array.isArray(value)) return { carrier: 'malformed', reason: 'give "ticket" at most once' };
  return value === undefined || value === '' ? null : { carrier: 'ticket', ticket: value };
}

/** The `ssehub_token` cookie's token, or null when absent or empty. */
export function cookieCredential(request: ReadRequest): Credential | null {
  // Unsigned: the application sets it and the JWT signs itself (Koa would expect a .sig cookie).
  const token = request.cookie(TOKEN_COOKIE);
  return token === undefined || token === '' ? null : { carrier: 'cookie', token };
}

import { createHash } from 'node:crypto';
import { AppError } from '../errors';

/** How long a publish's Idempotency-Key is remembered per channel (the key's format is checked at the edge: src/http/idempotency-key.ts). */
export const IDEMPOTENCY_TTL_MS = 5 * 60 * 1000;

/** The scope of publishes authorized by PUBLISH_TOKEN, or of open publishing: one for all. */
export const SHARED_PUBLISHER = 'shared';
/** The scope of publishes authorized by ADMIN_TOKEN. */
export const ADMIN_PUBLISHER = 'admin';

/** The scope of publishes authorized by an access token with this `sub`. */
export function subjectPublisher(sub: string): string {
  return `sub:${sub}`;
}

/**
 * Where a key is remembered within its channel: scope and key hashed together, so a `sub` of
 * any length or content (a `:` included) can neither collide with another scope nor make a
 * long Redis key.
 */
export function scopedKey(scope: string | undefined, key: string): string {
  return createHash('sha256')
    .update(`${(scope ?? SHARED_PUBLISHER).length}:${scope ?? SHARED_PUBLISHER}:${key}`)
    .digest('base64url');
}

/**
 * What a repeat must match to be the same publish: the event name and the data as compact JSON
 * (the `dataJson` the hub builds). SHA-1 hex, as publish.lua computes it with redis.sha1hex.
 */
export function publishFingerprint(event: string, dataJson: string): string {
  return createHash('sha1').update(`${event}\n${dataJson}`).digest('hex');
}

/** The key was used in its scope within IDEMPOTENCY_TTL_MS for another event name or data. */
export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super('idempotency_key_reused', 'this Idempotency-Key was used in the last 5 minutes for a different event or data; nothing was stored');
    this.name = 'IdempotencyKeyReusedError';
  }
}

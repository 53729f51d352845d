/** How long a publish's Idempotency-Key is remembered per channel. */
export const IDEMPOTENCY_TTL_MS = 5 * 60 * 1000;

const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,128}$/;

/** 1–128 printable ASCII characters. */
export function isValidIdempotencyKey(key: string): boolean {
  return IDEMPOTENCY_KEY_PATTERN.test(key);
}

const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,128}$/;

/**
 * True for a valid `Idempotency-Key` header: 1–128 printable ASCII characters. Checked at the
 * edge, before the body is read, so the broker only ever stores keys of this shape.
 */
export function isValidIdempotencyKey(key: string): boolean {
  return IDEMPOTENCY_KEY_PATTERN.test(key);
}

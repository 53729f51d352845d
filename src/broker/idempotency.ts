/** How long a publish's Idempotency-Key is remembered per channel (the key's format is checked at the edge: src/http/idempotency-key.ts). */
export const IDEMPOTENCY_TTL_MS = 5 * 60 * 1000;

/**
 * Reconnection delays: "full jitter" exponential backoff (a uniformly random delay between 0 and
 * min(maxMs, baseMs · 2^attempt)), so many clients dropped together do not return together.
 * The server's `retry:` becomes the base once known, and a busy answer's `retry:` is a floor.
 */

export interface BackoffOptions {
  /** Base delay before the server's `retry:` is known. Default 1000 ms. */
  readonly initialMs?: number;
  /** Upper bound of any delay. Default 30 000 ms. */
  readonly maxMs?: number;
  /** A connection that stayed healthy this long resets the attempt count. Default 10 000 ms. */
  readonly healthyAfterMs?: number;
  /** Source of randomness in [0, 1); tests pass their own. Default `Math.random`. */
  readonly random?: () => number;
}

export const DEFAULT_BACKOFF = Object.freeze({ initialMs: 1000, maxMs: 30_000, healthyAfterMs: 10_000 });

/** The delay schedule of one subscription or one publish. */
export class Backoff {
  private attempt = 0;
  private baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  readonly healthyAfterMs: number;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = positive(options.initialMs, DEFAULT_BACKOFF.initialMs);
    this.maxMs = positive(options.maxMs, DEFAULT_BACKOFF.maxMs);
    this.healthyAfterMs = positive(options.healthyAfterMs, DEFAULT_BACKOFF.healthyAfterMs);
    this.random = options.random ?? Math.random;
  }

  /** Attempts made since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** Uses the server's `retry:` as the base of later delays (bounded by `maxMs`). */
  setBase(retryMs: number): void {
    if (Number.isFinite(retryMs) && retryMs >= 0) this.baseMs = Math.min(retryMs, this.maxMs);
  }

  /**
   * The delay before the next attempt, and counts it. `floorMs` (a busy answer's `retry:`, a
   * `Retry-After`) is honoured even above `maxMs`: the server asked for it.
   */
  next(floorMs = 0): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.max(floorMs, Math.floor(this.random() * ceiling));
  }

  /** Forgets past attempts: the next delay is drawn from [0, base] again. */
  reset(): void {
    this.attempt = 0;
  }

  /** Resets when a connection that just ended had been healthy for `healthyAfterMs`. */
  connectionEnded(healthyForMs: number): void {
    if (healthyForMs >= this.healthyAfterMs) this.reset();
  }
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** How long `eventually` keeps trying and how often. */
export interface EventuallyOptions {
  /** Give up after this long; default 10 s. */
  timeoutMs?: number;
  /** Pause between attempts; default 10 ms. */
  intervalMs?: number;
}

/**
 * Runs `check` until it holds, for effects a test cannot await as an event (hub counters, a
 * readiness probe, a log file). `check` holds when it returns anything but `false` without
 * throwing, so it can be a predicate (`() => count === 0`) or a block of `expect`s. Resolves with
 * what the holding attempt returned. After the deadline it rejects naming `what`, with the last
 * thrown error's message (and the error as `cause`) so a failed `expect` reads as usual.
 */
export async function eventually<T>(check: () => T | Promise<T>, what: string, options: EventuallyOptions = {}): Promise<Exclude<T, false>> {
  const { timeoutMs = 10_000, intervalMs = 10 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== false) return result as Exclude<T, false>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const last = lastError === undefined ? 'the check still returned false' : `last failure: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${last}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

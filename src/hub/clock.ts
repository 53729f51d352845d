/** What a clock's `setTimer` returns, given back to `clearTimer`. */
export type TimerHandle = unknown;

/**
 * Where the hub reads the time and sets its timers (deadlines, flush waits, the reauth lead), so
 * tests can drive them with fake time. Timers it sets must not keep the process alive.
 */
export interface Clock {
  /** Milliseconds since the epoch (as Date.now()). */
  now(): number;
  /** Runs `action` once after `delayMs` (at most MAX_TIMER_DELAY_MS; callers re-arm beyond it). */
  setTimer(action: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /**
   * A monotonic reading with sub-millisecond resolution, for measuring how long work took (a
   * flush). Defaults to `now()` when a clock leaves it out.
   */
  preciseNow?(): number;
}

/** The longest delay Node's timers take (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * The real clock. It looks the globals up on each call, so jest's fake timers (installed after
 * this module loads) drive it too.
 */
export const realClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer: (action: () => void, delayMs: number): TimerHandle => setTimeout(action, delayMs).unref(),
  clearTimer: (handle: TimerHandle): void => clearTimeout(handle as NodeJS.Timeout),
  preciseNow: () => performance.now(),
});

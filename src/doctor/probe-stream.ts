import type { PassThrough } from 'node:stream';
import { encodeUnidentifiedEvent } from '../sse/encode';

/** Time as a dependency, so a test can run the probe on fake timers. */
export interface ProbeClock {
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** The real clock, looked up at each call (so jest's fake timers also replace it). */
export const SYSTEM_CLOCK: ProbeClock = {
  now: () => Date.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Six events, 250 ms apart: long enough to tell a buffering intermediary, short enough to wait for. */
export const PROBE_EVENTS = 6;
export const PROBE_INTERVAL_MS = 250;

/**
 * Writes the probe's six `event: probe` blocks to `stream` (the first at once, then one every
 * PROBE_INTERVAL_MS), each `{"seq","sentAt","lastEventId"}` with no `id:`, then ends `stream`.
 * A `stream` destroyed early (the client left) clears the pending timer.
 */
export function runProbe(stream: PassThrough, lastEventId: string | null, clock: ProbeClock = SYSTEM_CLOCK): void {
  let seq = 0;
  let timer: unknown;
  const send = (): void => {
    timer = undefined;
    seq++;
    const data = JSON.stringify({ seq, sentAt: new Date(clock.now()).toISOString(), lastEventId });
    stream.write(encodeUnidentifiedEvent('probe', data));
    if (seq === PROBE_EVENTS) stream.end();
    else timer = clock.setTimer(send, PROBE_INTERVAL_MS);
  };
  stream.once('close', () => {
    if (timer !== undefined) clock.clearTimer(timer);
    timer = undefined;
  });
  send();
}

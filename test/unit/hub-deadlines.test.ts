import { MAX_TIMER_DELAY_MS, realClock, type Clock } from '../../src/hub/clock';
import { Deadlines } from '../../src/hub/deadlines';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The real clock (driven by jest's fake timers here), recording each delay it is asked for. */
function recordingClock(): { clock: Clock; delays: number[] } {
  const delays: number[] = [];
  const clock: Clock = {
    now: () => realClock.now(),
    setTimer: (action, delayMs) => {
      delays.push(delayMs);
      return realClock.setTimer(action, delayMs);
    },
    clearTimer: (handle) => realClock.clearTimer(handle),
  };
  return { clock, delays };
}

describe('Deadlines', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs actions in time order with one timer', () => {
    const deadlines = new Deadlines();
    const ran: number[] = [];
    const now = Date.now();
    for (const offset of [30, 10, 20, 0, 25]) deadlines.add(now + offset, () => ran.push(offset));
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(20);
    expect(ran).toEqual([0, 10, 20]);
    jest.advanceTimersByTime(10);
    expect(ran).toEqual([0, 10, 20, 25, 30]);
    expect(deadlines.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    deadlines.stop();
  });

  it('runs actions due at the same time in the order they were added (a reauth before its end)', () => {
    const deadlines = new Deadlines();
    const ran: string[] = [];
    const at = Date.now() - 1;
    // Enough of them that a heap without a tie-breaker reorders some (it did for these).
    for (let index = 0; index < 40; index++) {
      deadlines.add(at, () => ran.push(`reauth ${index}`));
      deadlines.add(at, () => ran.push(`end ${index}`));
    }
    jest.advanceTimersByTime(0);
    expect(ran).toEqual(Array.from({ length: 40 }, (_, index) => [`reauth ${index}`, `end ${index}`]).flat());
    deadlines.stop();
  });

  it('reaches a deadline 30 days away in timer steps no longer than Node allows, without waking in between', () => {
    const { clock, delays } = recordingClock();
    const deadlines = new Deadlines(clock);
    let ran = false;
    deadlines.add(Date.now() + 30 * DAY_MS, () => {
      ran = true;
    });
    jest.advanceTimersByTime(30 * DAY_MS - 1);
    expect(ran).toBe(false);
    jest.advanceTimersByTime(1);
    expect(ran).toBe(true);
    // One step of the longest delay, then the rest: not a timer that fires every millisecond.
    expect(delays).toEqual([MAX_TIMER_DELAY_MS, 30 * DAY_MS - MAX_TIMER_DELAY_MS]);
    deadlines.stop();
  });

  it('keeps nothing for a time that never comes (Infinity, NaN) and arms no timer for it', () => {
    const deadlines = new Deadlines();
    for (const atMs of [Infinity, NaN]) deadlines.add(atMs, () => undefined);
    expect(deadlines.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    // Far beyond any Date, yet finite: kept, and reached in bounded steps like any other.
    const { clock, delays } = recordingClock();
    const far = new Deadlines(clock);
    far.add(1e303, () => undefined);
    expect(delays).toEqual([MAX_TIMER_DELAY_MS]);
    far.stop();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('forgets a cancelled deadline at once, and disarms its timer when it was the last one', () => {
    const deadlines = new Deadlines();
    const ran: string[] = [];
    const now = Date.now();
    const handles = ['a', 'b', 'c', 'd', 'e'].map((name, index) => deadlines.add(now + 10 * (index + 1), () => ran.push(name)));
    deadlines.cancel(handles[2]!);
    deadlines.cancel(handles[0]!);
    deadlines.cancel(handles[0]!);
    expect(deadlines.size).toBe(3);
    jest.advanceTimersByTime(50);
    expect(ran).toEqual(['b', 'd', 'e']);
    const late = deadlines.add(now + 1000, () => ran.push('late'));
    expect(jest.getTimerCount()).toBe(1);
    deadlines.cancel(late);
    expect(deadlines.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    deadlines.stop();
  });
});

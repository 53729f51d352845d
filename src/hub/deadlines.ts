import { MAX_TIMER_DELAY_MS, realClock, type Clock, type TimerHandle } from './clock';

/** An action added to Deadlines, to cancel it with. */
export interface DeadlineHandle {
  readonly atMs: number;
}

interface Deadline extends DeadlineHandle {
  /** Insertion order: deadlines due at the same time run in the order they were added. */
  readonly order: number;
  readonly action: () => void;
  /** Its place in the heap; -1 once it ran or was cancelled. */
  index: number;
}

/** True when `a` runs before `b`. */
function precedes(a: Deadline, b: Deadline): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
}

const NEVER: DeadlineHandle = Object.freeze({ atMs: Infinity });

/**
 * Actions due at given times (credential expiry of streams), run by one timer for the whole hub
 * that is always set for the earliest one: no timer per stream. A min-heap by time. A deadline
 * further off than a timer can wait is reached in steps of at most MAX_TIMER_DELAY_MS; one that
 * is not a finite time (NaN, Infinity) never comes and is not kept.
 */
export class Deadlines {
  private readonly heap: Deadline[] = [];
  /** Meaningful while a timer is armed (timerAtMs finite). */
  private timer: TimerHandle = undefined;
  /** When the armed timer fires; Infinity when none is armed. */
  private timerAtMs = Infinity;
  private stopped = false;
  private added = 0;

  constructor(private readonly clock: Clock = realClock) {}

  /** Runs `action` at `atMs` (at once if that has passed), after those added earlier for the same time. */
  add(atMs: number, action: () => void): DeadlineHandle {
    if (this.stopped || !Number.isFinite(atMs)) return NEVER;
    const deadline: Deadline = { atMs, order: this.added++, action, index: this.heap.length };
    this.heap.push(deadline);
    this.siftUp(deadline.index);
    this.schedule();
    return deadline;
  }

  /** Forgets a deadline that has not run yet; nothing of it is kept. */
  cancel(handle: DeadlineHandle): void {
    const deadline = handle as Deadline;
    if (handle === NEVER || deadline.index < 0 || this.heap[deadline.index] !== deadline) return;
    this.removeAt(deadline.index);
    if (this.heap.length === 0) this.disarm();
  }

  /** Deadlines waiting to run. */
  get size(): number {
    return this.heap.length;
  }

  stop(): void {
    this.stopped = true;
    this.disarm();
    for (const deadline of this.heap) deadline.index = -1;
    this.heap.length = 0;
  }

  private schedule(): void {
    const next = this.heap[0];
    if (!next || next.atMs >= this.timerAtMs) return;
    this.disarm();
    const now = this.clock.now();
    const delayMs = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, next.atMs - now));
    this.timerAtMs = Math.min(next.atMs, now + delayMs);
    this.timer = this.clock.setTimer(this.runDue, delayMs);
  }

  private disarm(): void {
    if (this.timerAtMs !== Infinity) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAtMs = Infinity;
  }

  private readonly runDue = (): void => {
    this.timer = undefined;
    this.timerAtMs = Infinity;
    const now = this.clock.now();
    for (let next = this.heap[0]; next && next.atMs <= now; next = this.heap[0]) {
      this.removeAt(0);
      next.action();
    }
    this.schedule();
  };

  private removeAt(index: number): void {
    const heap = this.heap;
    const removed = heap[index] as Deadline;
    removed.index = -1;
    const last = heap.pop() as Deadline;
    if (last === removed) return;
    heap[index] = last;
    last.index = index;
    this.siftUp(index);
    this.siftDown(last.index);
  }

  private siftUp(index: number): void {
    for (let child = index; child > 0; ) {
      const parent = (child - 1) >> 1;
      if (!precedes(this.heap[child] as Deadline, this.heap[parent] as Deadline)) return;
      this.swap(parent, child);
      child = parent;
    }
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    for (let parent = index; ; ) {
      const left = parent * 2 + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < heap.length && precedes(heap[left] as Deadline, heap[smallest] as Deadline)) smallest = left;
      if (right < heap.length && precedes(heap[right] as Deadline, heap[smallest] as Deadline)) smallest = right;
      if (smallest === parent) return;
      this.swap(parent, smallest);
      parent = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const first = this.heap[a] as Deadline;
    const second = this.heap[b] as Deadline;
    this.heap[a] = second;
    this.heap[b] = first;
    first.index = b;
    second.index = a;
  }
}

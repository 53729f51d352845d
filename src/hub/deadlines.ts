interface Deadline {
  readonly atMs: number;
  /** Insertion order: deadlines due at the same time run in the order they were added. */
  readonly order: number;
  readonly action: () => void;
}

/** The longest delay setTimeout honours (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** True when `a` runs before `b`. */
function precedes(a: Deadline, b: Deadline): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
}

/**
 * Actions due at given times (credential expiry of streams), run by one timer for the whole hub
 * that is always set for the earliest one: no timer per stream. A min-heap by time.
 */
export class Deadlines {
  private readonly heap: Deadline[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAtMs = Infinity;
  private stopped = false;
  private added = 0;

  /** Runs `action` at `atMs` (at once if that has passed), after those added earlier for the same time. */
  add(atMs: number, action: () => void): void {
    if (this.stopped) return;
    this.heap.push({ atMs, order: this.added++, action });
    this.siftUp(this.heap.length - 1);
    this.schedule();
  }

  get size(): number {
    return this.heap.length;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.heap.length = 0;
  }

  private schedule(): void {
    const next = this.heap[0];
    if (!next || next.atMs >= this.timerAtMs) return;
    clearTimeout(this.timer);
    this.timerAtMs = next.atMs;
    // Node runs a longer delay at once (1 ms, again and again): wake at the limit, look again.
    this.timer = setTimeout(() => this.runDue(), Math.min(MAX_TIMER_MS, Math.max(0, next.atMs - Date.now())));
    this.timer.unref();
  }

  private runDue(): void {
    this.timerAtMs = Infinity;
    const now = Date.now();
    for (let next = this.heap[0]; next && next.atMs <= now; next = this.heap[0]) {
      this.pop();
      next.action();
    }
    this.schedule();
  }

  private pop(): void {
    const last = this.heap.pop();
    if (last === undefined || this.heap.length === 0) return;
    this.heap[0] = last;
    this.siftDown(0);
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    for (let child = index; child > 0; ) {
      const parent = (child - 1) >> 1;
      if (!precedes(heap[child] as Deadline, heap[parent] as Deadline)) return;
      [heap[parent], heap[child]] = [heap[child] as Deadline, heap[parent] as Deadline];
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
      [heap[parent], heap[smallest]] = [heap[smallest] as Deadline, heap[parent] as Deadline];
      parent = smallest;
    }
  }
}

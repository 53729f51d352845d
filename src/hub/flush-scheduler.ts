import type { Clock } from './clock';

/** A shorter wait than this is not worth a timer: the flush comes on the next turn. */
const MIN_FLUSH_WAIT_MS = 1;

/**
 * Collects what has something to write (channels with a batch) and flushes them together, once
 * per event-loop turn at light load. Only when events come faster than flushes (the last flush
 * carried several items for one channel: they arrived while it was writing) is writing kept to
 * at most about half of the loop's time: a flush then waits until as long after the last one as
 * that took (at most `maxWaitMs`), so the events of that wait share one write per stream instead
 * of taking one each, and the other half is left to the requests (publishes) and Redis. A flush
 * that was merely slow (many streams, a loaded machine) holds the next event back for nothing:
 * it has no company to wait for, and waiting would only add to its latency.
 */
export class FlushScheduler<T> {
  private readonly dirty = new Set<T>();
  private scheduled = false;
  /** How long the last flush took, and when it ended (on the clock's precise scale). */
  private lastFlushCostMs = 0;
  private lastFlushEndMs = 0;
  /** The last flush carried more than one item for some channel: events outpace flushes. */
  private crowded = false;
  private readonly preciseNow: () => number;

  constructor(
    /**
     * Writes everything in `dirty`; `nowMs` is the clock's `now()` at the flush. Returns the
     * most items any one of them wrote (events that arrived during the last flush or wait).
     */
    private readonly flush: (dirty: ReadonlySet<T>, nowMs: number) => number,
    private readonly maxWaitMs: number,
    private readonly clock: Clock,
  ) {
    this.preciseNow = clock.preciseNow ? () => (clock.preciseNow as () => number)() : () => clock.now();
  }

  /** Has `item` flushed with the next flush, scheduling one if none is. */
  markDirty(item: T): void {
    this.dirty.add(item);
    if (this.scheduled) return;
    this.scheduled = true;
    if (!this.crowded) {
      setImmediate(this.flushNow);
      return;
    }
    const waitMs = Math.min(this.maxWaitMs, this.lastFlushCostMs - (this.preciseNow() - this.lastFlushEndMs));
    if (waitMs < MIN_FLUSH_WAIT_MS) setImmediate(this.flushNow);
    else this.clock.setTimer(this.flushNow, waitMs);
  }

  /** Leaves `item` out of the next flush (it went away). */
  forget(item: T): void {
    this.dirty.delete(item);
  }

  /** Flushes now whatever is dirty (a scheduled flush then finds nothing to do). */
  readonly flushNow = (): void => {
    this.scheduled = false;
    const startedAt = this.preciseNow();
    this.crowded = this.flush(this.dirty, this.clock.now()) > 1;
    this.dirty.clear();
    // Node sends what was written once this callback returns (each response uncorks its socket
    // on the next tick, queued before this one): the system calls are most of a flush's cost.
    process.nextTick(this.recordFlushEnd, startedAt);
  };

  private readonly recordFlushEnd = (startedAt: number): void => {
    this.lastFlushEndMs = this.preciseNow();
    this.lastFlushCostMs = this.lastFlushEndMs - startedAt;
  };
}

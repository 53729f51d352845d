import type { Logger } from 'pino';

/** What the watchdog needs of a connection: ioredis' Redis (and Cluster, without `stream`). */
export interface Pingable {
  readonly status: string;
  ping(): Promise<unknown>;
  /** The socket, when there is one: bytes still arriving excuse a late answer. */
  readonly stream?: { readonly bytesRead?: number };
}

/** One connection to watch, and what to do once it stopped answering. */
export interface PingTarget {
  /** For the log line: which connection went silent. */
  readonly label: string;
  readonly connection: Pingable;
  /** Called once per lost ping; usually drops the connection so that it reconnects. */
  readonly lost: () => void;
}

export interface PingWatchdogOptions {
  /** The connections to ping, asked anew each interval (a Cluster's shard subscribers come and go). */
  readonly targets: () => Iterable<PingTarget>;
  readonly logger: Logger;
  /** Runs after each round of pings (the broker's other once-a-second checks). */
  readonly onTick?: () => void;
  /** Defaults: 1000 ms between rounds, 2000 ms per answer, performance.now as the clock. */
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/**
 * A ping whose deadline passed while this process was stalled (by more than STALL_MS), or whose
 * connection kept receiving, gets up to this many more deadlines before it counts as lost.
 */
const MAX_PING_EXTENSIONS = 5;
const STALL_MS = 250;

/**
 * Pings every ready connection each interval. A Redis that vanishes without closing the socket
 * (a partition, a paused node) sends no RST: without pings the outage would go unnoticed until
 * TCP gives up, long after /readyz should say 503. A ping unanswered by its deadline calls the
 * target's `lost`, unless this process itself could not run (see `judge`).
 */
export class PingWatchdog {
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(private readonly options: PingWatchdogOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.now = options.now ?? (() => performance.now());
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops pinging and forgets every ping in flight (none will be judged). */
  stop(): void {
    clearInterval(this.timer);
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }

  /** One round: pings each ready target once. */
  tick(): void {
    for (const target of this.options.targets()) this.ping(target);
    this.options.onTick?.();
  }

  private ping(target: PingTarget): void {
    const { connection } = target;
    if (connection.status !== 'ready') return;
    let answered = false;
    let bytesReadBefore = bytesRead(connection);
    let deadline = this.now() + this.timeoutMs;
    let extensions = 0;
    let timer: NodeJS.Timeout;
    const arm = (): void => {
      timer = setTimeout(judge, this.timeoutMs);
      this.pending.add(timer);
    };
    const judge = (): void => {
      this.pending.delete(timer);
      // Judged after the loop's next I/O phase: when this process itself was blocked (a busy
      // CPU, a long GC), the answer may be waiting in the socket, and timers run before reads.
      setImmediate(() => {
        if (answered) return;
        const now = this.now();
        const bytesReadNow = bytesRead(connection);
        // Not a lost Redis, so far: this process could not run when the deadline passed (the
        // ping itself may have gone out late, auto-pipelined), or the connection is still
        // receiving (a backlog of messages queued ahead of the answer).
        const excused = now - deadline > STALL_MS || bytesReadNow > bytesReadBefore;
        if (excused && extensions < MAX_PING_EXTENSIONS) {
          extensions++;
          bytesReadBefore = bytesReadNow;
          deadline = now + this.timeoutMs;
          arm();
          return;
        }
        this.options.logger.warn({ connection: target.label }, 'redis did not answer a ping in time; reconnecting');
        target.lost();
      });
    };
    arm();
    const settle = (): void => {
      answered = true;
      clearTimeout(timer);
      this.pending.delete(timer);
    };
    connection.ping().then(settle, settle);
  }
}

/** Bytes received so far on a connection's socket (0 for a Cluster, which has many). */
function bytesRead(connection: Pingable): number {
  return connection.stream?.bytesRead ?? 0;
}

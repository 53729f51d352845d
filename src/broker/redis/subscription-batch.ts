import { BrokerUnavailableError } from '../../errors';

/**
 * How the batch reaches Redis, given hub channel names: classic SUBSCRIBE on one connection, or
 * SSUBSCRIBE of shard channels per slot on a Cluster.
 */
export interface SubscriptionTransport {
  /** Channels with the same group may share one command (`0` for all in classic pub/sub). */
  groupOf(channel: string): number;
  subscribe(channels: string[]): Promise<unknown>;
  unsubscribe(channels: string[]): Promise<unknown>;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** Redis takes any number of channels per command; this keeps one command's size bounded. */
const MAX_NAMES_PER_COMMAND = 1000;

/**
 * Coalesces the subscribes and unsubscribes asked for in one turn of the event loop into one
 * command per group (per slot on a Cluster), so 10,000 streams arriving together cost a handful
 * of round trips, not 10,000. At flush time each touched name goes out in the direction its
 * channel is wanted in then (`isWanted`), so a subscribe and unsubscribe of one turn settle to
 * the last word. A subscribe resolves once Redis confirmed the command that carried it.
 */
export class SubscriptionBatch {
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly touched = new Set<string>();
  private scheduled = false;

  constructor(
    private readonly transport: SubscriptionTransport,
    private readonly isWanted: (name: string) => boolean,
  ) {}

  subscribe(name: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const list = this.waiters.get(name);
      if (list) list.push({ resolve, reject });
      else this.waiters.set(name, [{ resolve, reject }]);
      this.touch(name);
    });
  }

  unsubscribe(name: string): void {
    this.touch(name);
  }

  /** Rejects what is still waiting for its turn (the connection is gone; nothing will be sent). */
  failPending(error: Error): void {
    for (const list of this.waiters.values()) for (const waiter of list) waiter.reject(error);
    this.waiters.clear();
    this.touched.clear();
  }

  /**
   * Sends `channels` now, grouped and chunked, in one direction. With `renew`, each group is
   * first unsubscribed then subscribed again in one go (see RedisBroker: it keeps ioredis' own
   * list of shard channels from holding a name twice). Resolves, once every command was answered,
   * with the channels whose command failed (one shard down need not hold up the others).
   */
  async send(channels: Iterable<string>, direction: 'subscribe' | 'unsubscribe', renew = false): Promise<string[]> {
    const sends: Array<Promise<string[]>> = [];
    for (const chunk of this.chunks(channels)) {
      const failed = (): string[] => chunk;
      if (direction === 'unsubscribe') {
        sends.push(this.transport.unsubscribe(chunk).then(() => [], failed));
        continue;
      }
      // The unsubscribe is not awaited: issued in the same turn, it reaches Redis just before.
      if (renew) void this.transport.unsubscribe(chunk).catch(() => undefined);
      sends.push(this.transport.subscribe(chunk).then(() => [], failed));
    }
    return (await Promise.all(sends)).flat();
  }

  private touch(name: string): void {
    this.touched.add(name);
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate, not nextTick: it runs after every request parsed in this poll phase.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const wanted: string[] = [];
    const unwanted: string[] = [];
    for (const name of this.touched) (this.isWanted(name) ? wanted : unwanted).push(name);
    this.touched.clear();
    if (unwanted.length > 0) void this.send(unwanted, 'unsubscribe');
    for (const chunk of this.chunks(wanted)) {
      const waiting = chunk.map((name) => {
        const list = this.waiters.get(name) ?? [];
        this.waiters.delete(name);
        return list;
      });
      this.transport.subscribe(chunk).then(
        () => {
          for (const list of waiting) for (const waiter of list) waiter.resolve();
        },
        (error: Error) => {
          const failure = new BrokerUnavailableError(`could not subscribe: ${error.message}`);
          for (const list of waiting) for (const waiter of list) waiter.reject(failure);
        },
      );
    }
    // A subscribe whose channel was unwanted again by flush time has nothing left to wait for.
    for (const name of unwanted) {
      for (const waiter of this.waiters.get(name) ?? []) waiter.resolve();
      this.waiters.delete(name);
    }
  }

  /** Splits names by group, then into commands of at most MAX_NAMES_PER_COMMAND. */
  private *chunks(names: Iterable<string>): Generator<string[]> {
    const groups = new Map<number, string[]>();
    for (const name of names) {
      const group = this.transport.groupOf(name);
      const list = groups.get(group);
      if (list) list.push(name);
      else groups.set(group, [name]);
    }
    for (const list of groups.values()) {
      for (let start = 0; start < list.length; start += MAX_NAMES_PER_COMMAND) yield list.slice(start, start + MAX_NAMES_PER_COMMAND);
    }
  }
}

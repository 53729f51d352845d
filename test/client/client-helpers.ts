import type { Subscription, SubscriptionItem } from '../../client/src/index.js';
import { eventually, type EventuallyOptions } from '../helpers/eventually';

/** How long client tests wait for an effect: a reconnect backoff or a browser takes longer. */
export const CLIENT_WAIT: EventuallyOptions = { timeoutMs: 15_000 };

/** Consumes a subscription in the background, keeping every item and the cursor after it. */
export class Collector {
  readonly items: SubscriptionItem[] = [];
  readonly cursors: string[] = [];
  error: unknown;
  readonly done: Promise<void>;

  constructor(private readonly sub: Subscription) {
    this.done = (async () => {
      try {
        for await (const item of sub) {
          this.items.push(item);
          this.cursors.push(sub.cursor);
        }
      } catch (error) {
        this.error = error;
      }
    })();
  }

  /** Event ids per channel, in the order they were yielded. */
  idsOf(channel: string): number[] {
    return this.items.flatMap((item) => (item.kind === 'event' && item.channel === channel ? [Number(item.id)] : []));
  }

  get gaps(): SubscriptionItem[] {
    return this.items.filter((item) => item.kind === 'gap');
  }

  /** Resolves once `channel` yielded `count` events; rejects at once if the subscription failed. */
  async waitForEvents(channel: string, count: number, timeoutMs?: number): Promise<void> {
    // A failed subscription ends the wait (and the test) now rather than at the deadline.
    await eventually(() => this.error !== undefined || this.idsOf(channel).length >= count, `${count} events of ${channel}`, {
      timeoutMs: timeoutMs ?? CLIENT_WAIT.timeoutMs,
    }).catch((error: Error) => {
      throw new Error(`${error.message} (have ${this.idsOf(channel).length})`);
    });
    if (this.error !== undefined) throw this.error instanceof Error ? this.error : new Error('the subscription failed');
  }

  async close(): Promise<void> {
    this.sub.close();
    await this.done;
  }
}

/** The ids a channel should have delivered: `count` consecutive ids starting at `first`. */
export function consecutive(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, index) => first + index);
}

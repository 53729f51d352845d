import type { Subscription, SubscriptionItem } from '../../client/src/index.js';

/** Resolves when `check` holds, testing it again every few milliseconds; rejects after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

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

  async waitForEvents(channel: string, count: number, timeoutMs?: number): Promise<void> {
    await until(() => {
      if (this.error !== undefined) throw this.error instanceof Error ? this.error : new Error('the subscription failed');
      return this.idsOf(channel).length >= count;
    }, `${count} events of ${channel} (have ${this.idsOf(channel).length})`, timeoutMs);
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

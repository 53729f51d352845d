import { setTimeout as wait } from 'node:timers/promises';
import { BrokerUnavailableError } from '../errors';

/** How often a start-up step is tried while the broker is briefly unavailable, and the waits between. */
const ATTEMPTS = 8;
const FIRST_WAIT_MS = 100;
const LONGEST_WAIT_MS = 1000;

/**
 * Runs a start-up step that needs the broker, trying again (about 5 s in all) while it fails with
 * BrokerUnavailableError: a connection Redis or the ping watchdog dropped a moment ago comes back
 * on its own, and a process should not fail its start for that. Any other error, or the last
 * failure, is thrown (fastify-redis' rule: retry network errors at start, fail fast on others).
 * `pause` waits between attempts (tests pass their own).
 */
export async function retryWhileBrokerUnavailable<T>(step: () => Promise<T>, pause: (ms: number) => Promise<unknown> = wait): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof BrokerUnavailableError) || attempt >= ATTEMPTS) throw error;
      await pause(Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** (attempt - 1)));
    }
  }
}

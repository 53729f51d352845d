import pino from 'pino';
import { createBroker, type Brokers } from '../../src/broker/create-broker';
import { testRedisUrl, uniquePrefix } from '../helpers/test-server';

export interface TestBrokerOptions {
  readonly historySize?: number;
  /** Processes given the same prefix act as one deployment. */
  readonly prefix?: string;
  readonly maxPresenceMembers?: number;
  /** HISTORY_PAGE_BYTES; default the server's. */
  readonly historyPageBytes?: number;
}

/** The in-process stores, as src/server.ts builds them without REDIS_URL. */
export function memoryBrokers(options: TestBrokerOptions = {}): Promise<Brokers> {
  return createBroker({
    redis: undefined,
    historySize: options.historySize ?? 100,
    historyPageBytes: options.historyPageBytes,
    maxPresenceMembers: options.maxPresenceMembers,
    logger: pino({ level: 'silent' }),
  });
}

/** The Redis stores on the test Redis, as src/server.ts builds them, with a unique prefix unless given. */
export function redisBrokers(options: TestBrokerOptions = {}): Promise<Brokers> {
  return createBroker({
    redis: { url: testRedisUrl(), keyPrefix: options.prefix ?? uniquePrefix() },
    historySize: options.historySize ?? 100,
    historyPageBytes: options.historyPageBytes,
    maxPresenceMembers: options.maxPresenceMembers,
    logger: pino({ level: 'silent' }),
  });
}

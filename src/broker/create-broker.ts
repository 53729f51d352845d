import type { Logger } from 'pino';
import type { EventBroker } from './broker';
import type { ControlStore } from './control-store';
import { MemoryControlStore } from './memory/control';
import { DEFAULT_HISTORY_PAGE_BYTES } from './history-page';
import { MemoryEventBroker } from './memory/events';
import { MemoryPresenceStore } from './memory/presence';
import { MemoryStatsStore } from './memory/stats';
import { MemoryTicketStore } from './memory/tickets';
import type { PresenceStore } from './presence-store';
import { createRedisConnection, type ConnectionPurpose, type RedisConnection } from './redis/connection';
import { RedisControlStore } from './redis/control';
import { RedisEventBroker } from './redis/events';
import { RedisKeys } from './redis/keys';
import { RedisPresenceStore } from './redis/presence';
import { CommandRunner } from './redis/scripts';
import { RedisStatsStore } from './redis/stats-store';
import { describeRedisTarget, isCluster, type RedisTarget } from './redis/target';
import { RedisTicketStore } from './redis/tickets';
import type { StatsStore, StoreClock } from './stats-store';
import type { TicketStore } from './ticket-store';

/** The stores one process uses, all on the same backend, and the way to close them. */
export interface Brokers {
  readonly events: EventBroker;
  readonly tickets: TicketStore;
  readonly presence: PresenceStore;
  /** The server API's orders between instances, revocations and history removal. */
  readonly control: ControlStore;
  /** Every instance's figures (GET /api/stats, /api/channels). */
  readonly stats: StatsStore;
  /** Closes every connection. Never rejects. */
  close(): Promise<void>;
}

export interface BrokerOptions {
  /** Redis, or undefined for the in-process stores (one instance only). */
  readonly redis: RedisTarget | undefined;
  readonly historySize: number;
  /** A channel's history and counter are forgotten this long after its last publish; 0 = never. */
  readonly historyTtlS?: number;
  /** Most bytes of event JSON one history read returns (HISTORY_PAGE_BYTES); default 1 MiB. */
  readonly historyPageBytes?: number;
  /** Distinct subs listed per presence channel; default MAX_PRESENCE_MEMBERS. */
  readonly maxPresenceMembers?: number;
  readonly logger: Logger;
  /** Opens a Redis connection (tests wrap it); default createRedisConnection. */
  readonly createConnection?: (target: RedisTarget, name: string, purpose: ConnectionPurpose) => RedisConnection;
  /** How long `createBroker` waits for Redis; default 30 s. */
  readonly connectTimeoutMs?: number;
  /** Time of the control and stats stores (tests move it); default Date.now. */
  readonly storeClock?: StoreClock;
}

/** The in-process stores (one instance only; nothing survives a restart). No I/O. */
export function createMemoryBrokers(options: Pick<BrokerOptions, 'historySize' | 'historyTtlS' | 'historyPageBytes' | 'maxPresenceMembers' | 'storeClock'>): Brokers {
  const events = new MemoryEventBroker(options.historySize, options.historyTtlS, options.historyPageBytes);
  const presence = new MemoryPresenceStore((channel) => events.isSubscribed(channel), options.maxPresenceMembers);
  const control = new MemoryControlStore((channel) => events.deleteHistory(channel), options.storeClock);
  const stats = new MemoryStatsStore(options.storeClock);
  return { events, tickets: new MemoryTicketStore(), presence, control, stats, close: () => events.close() };
}

/**
 * The event broker, ticket store and presence store on one backend, connected: resolves once
 * Redis is ready. Rejects when Redis cannot be reached in time or refuses the credentials (the
 * connections are closed then).
 */
export async function createBroker(options: BrokerOptions): Promise<Brokers> {
  const target = options.redis;
  if (target === undefined) return createMemoryBrokers(options);
  const open = options.createConnection ?? createRedisConnection;
  const command = open(target, 'ssehub-command', 'commands');
  const subscriber = open(target, 'ssehub-subscriber', 'subscriptions');
  const keys = new RedisKeys(target.keyPrefix, (target.pubsub ?? (isCluster(target) ? 'sharded' : 'classic')) === 'sharded');
  let closed = false;
  const commands = new CommandRunner(command, () => closed);
  const presence = new RedisPresenceStore({ commands, keys, maxMembers: options.maxPresenceMembers });
  const control: RedisControlStore = new RedisControlStore({ commands, keys, subscribe: (channel): Promise<void> => events.subscribe(channel), clock: options.storeClock });
  const events = new RedisEventBroker({
    command,
    subscriber,
    commands,
    keys,
    historySize: options.historySize,
    historyPageBytes: options.historyPageBytes ?? DEFAULT_HISTORY_PAGE_BYTES,
    historyTtlS: options.historyTtlS,
    description: describeRedisTarget(target),
    logger: options.logger,
    takeSignal: (channel, message): boolean => control.take(channel, message) || presence.takeSignal(channel, message),
  });
  const close = (): Promise<void> => {
    closed = true;
    return events.close();
  };
  try {
    await events.connect(options.connectTimeoutMs);
  } catch (error) {
    await close();
    throw error;
  }
  const stats = new RedisStatsStore({ commands, keys, clock: options.storeClock });
  return { events, tickets: new RedisTicketStore(commands, keys), presence, control, stats, close };
}

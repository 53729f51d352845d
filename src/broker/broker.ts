import type { StoredEvent } from '../event';

/** The answer to a publish: the event's id, or the first publish's answer for a repeated key. */
export interface PublishResult {
  readonly id: number;
  readonly channel: string;
  readonly event: string;
  /** True when the idempotency key was already used: nothing was stored or published. */
  readonly duplicate: boolean;
}

export interface PublishRequest {
  readonly channel: string;
  readonly event: string;
  /** The data as compact JSON (JSON.stringify output). */
  readonly dataJson: string;
  readonly idempotencyKey?: string;
  /**
   * Whose key it is (see idempotency.ts: a token's `sub`, the admin, or the shared scope): a key
   * is remembered per channel and scope, so two publishers never share one. Default: shared.
   */
  readonly idempotencyScope?: string;
  /** Events kept for this channel (its namespace's `history`); absent = the broker's HISTORY_SIZE. */
  readonly historySize?: number;
  /** Seconds its history lives after this publish (0 = never); absent = the broker's HISTORY_TTL_S. */
  readonly historyTtlS?: number;
}

/**
 * A slice of a channel's retained history, with the bounds of the whole retained window. A slice
 * holds at most `limit` events and at most the broker's page bytes of event JSON, but always at
 * least one event when the range has one.
 */
export interface HistoryPage {
  /** Oldest first. */
  readonly events: readonly StoredEvent[];
  /**
   * With `after`: newer retained events follow the slice (read on after its last id). Without
   * `after`: older retained events precede it. False for an empty slice.
   */
  readonly more: boolean;
  /** Id of the oldest retained event, or null when the channel has none. */
  readonly firstId: number | null;
  /** Id of the newest retained event, or null when the channel has none. */
  readonly lastId: number | null;
}

export interface HistoryQuery {
  /** Events with id > after; absent = the newest `limit` events. */
  readonly after?: number;
  readonly limit: number;
}

/**
 * `connecting` until first ready; `ready` while serving; `down` after an outage until every
 * subscription is back; `closed` for good.
 */
export type BrokerStatus = 'connecting' | 'ready' | 'down' | 'closed';

/**
 * Receives the events of subscribed channels in the order they were published, at most once
 * each (a hole is possible: pub/sub is at-most-once). `publishedAtMs` is the publisher's clock.
 */
export type EventListener = (channel: string, event: StoredEvent, publishedAtMs: number) => void;

/**
 * Receives the events of ephemeral channels (`history: 0`): no id, nothing stored, at most once,
 * delivered to the processes subscribed when it was published.
 */
export type EphemeralListener = (channel: string, event: string, dataJson: string, publishedAtMs: number) => void;

export interface BrokerEvents {
  /** The broker is serving again after an outage and every subscription is back in place. */
  resubscribed: () => void;
  /** The broker stopped serving: publishes and history reads fail until `resubscribed`. */
  down: () => void;
}

/**
 * Where events get their ids, are kept and are fanned out between processes: what the hub, the
 * publish and history routes and /readyz need. Implementations: MemoryEventBroker (one process)
 * and RedisEventBroker (any number of processes). Tickets and presence are separate stores
 * (TicketStore, PresenceStore), so a new storage need never widens this interface.
 */
export interface EventBroker {
  /** What this broker is, for the start-up log line. */
  readonly description: string;
  /** Where the broker stands; changes are announced as `down` and `resubscribed`. */
  readonly status: BrokerStatus;
  /** True while publishes, history reads and subscriptions can be served (status `ready`). */
  readonly ready: boolean;

  /**
   * Atomically assigns the next id of the channel (starting at the current time in microseconds
   * when its history starts), appends the event to the capped history and publishes it.
   * Resolves only once all three happened. A repeated idempotency key (5 minutes per channel)
   * in its scope with the same event name and data resolves with the first publish's result and
   * `duplicate: true`, storing nothing; with another name or data it rejects with
   * IdempotencyKeyReusedError, storing nothing.
   * Rejects with BrokerUnavailableError when the broker cannot be reached.
   */
  publish(request: PublishRequest): Promise<PublishResult>;

  /**
   * Delivers an event of an ephemeral channel to every process subscribed to the channel now,
   * storing nothing and taking no id (the `onEphemeral` receiver gets it). `dataJson` is compact
   * JSON and `event` a validated name. Rejects with BrokerUnavailableError when unreachable.
   */
  publishEphemeral(channel: string, event: string, dataJson: string): Promise<void>;

  /**
   * Reads retained events: with `after`, the oldest after it; without, the newest. A slice cut
   * by bytes keeps the events nearest the start of the read (oldest after `after`, or the very
   * newest), so reading on with `after` misses nothing. Rejects with BrokerUnavailableError
   * when unreachable.
   */
  history(channel: string, query: HistoryQuery): Promise<HistoryPage>;

  /**
   * Starts delivering the channel's events to the listener. Resolves once events published
   * from now on are guaranteed to be delivered. Idempotent per channel. Rejects with
   * BrokerUnavailableError when the broker is not ready.
   */
  subscribe(channel: string): Promise<void>;

  /** Stops delivering the channel's events. Never rejects. */
  unsubscribe(channel: string): Promise<void>;

  /** Sets the single receiver of every subscribed channel's events. */
  onEvent(listener: EventListener): void;

  /** Sets the single receiver of every subscribed channel's ephemeral events. */
  onEphemeral(listener: EphemeralListener): void;

  /** `down` when serving stops, `resubscribed` when it resumes with every subscription back. */
  on<E extends keyof BrokerEvents>(event: E, listener: BrokerEvents[E]): this;
}

import type { PublishRequest, PublishResult } from '../broker/broker';
import type { StreamOwner } from '../hub/stream-owner';
import type { InstanceStats, StatsTotals } from '../stats/instance-stats';

/** `POST /api/disconnect`: which streams end, and what they are told. */
export interface DisconnectOrder {
  readonly sub: string;
  /** Only the streams that follow this channel (a `/streams` stream counts if it has it). */
  readonly channel?: string;
  /** False tells `@ssehub/client` to stop (it ends the subscription with a DisconnectedError). */
  readonly reconnect: boolean;
  readonly reason: string;
}

/** `POST /api/revoke`: every token of `sub` issued before `beforeMs` (by `iat`), or one token. */
export type RevokeOrder = { readonly sub: string; readonly beforeMs: number } | { readonly jti: string };

/** A channel with open streams and how many, over every instance. */
export interface ChannelConnections {
  readonly channel: string;
  readonly connections: number;
}

/** `GET /api/channels`' answer. */
export interface ChannelsReport {
  /** Busiest first (ties by name), at most the limit asked for. */
  readonly channels: readonly ChannelConnections[];
  /** How many instances the figures come from. */
  readonly instances: number;
}

/** `GET /api/stats`' answer: one entry per live instance, and their sums. */
export interface StatsReport {
  readonly instances: readonly InstanceStats[];
  readonly totals: StatsTotals;
}

/**
 * What the server API acts through: the hub's actions over every instance that shares the
 * broker. BrokerControlPlane implements it over the broker's ControlStore and StatsStore: on
 * Redis the orders travel on one control channel, revocations are kept in Redis and each
 * instance's reported figures are read; in process, the same on memory twins. Routes validate
 * their input first: every argument here is valid.
 */
export interface ControlPlane {
  /**
   * Publishes one event through the ordinary publish path (the broker's atomic publish, the
   * channel's namespace checks when there are any, the publish metric). Rejects as a publish
   * does: AppError (400 `invalid_data`, `unknown_event`, 422 `idempotency_key_reused`) or
   * BrokerUnavailableError. The caller publishes once per channel of a broadcast.
   */
  publish(request: PublishRequest): Promise<PublishResult>;

  /**
   * Publishes one event of an ephemeral channel (no id, nothing stored), as a publish there
   * does. Rejects with BrokerUnavailableError.
   */
  publishEphemeral(channel: string, event: string, dataJson: string): Promise<void>;

  /**
   * Sends `hub.disconnect` (`{"reason","reconnect"}`, no id) to every stream of `order.sub`
   * (on `order.channel` only, when given) and ends it, on every instance within 1 s. Resolves
   * once the order is on its way (for one process: done). Rejects with BrokerUnavailableError
   * when the order cannot be sent.
   */
  disconnect(order: DisconnectOrder): Promise<void>;

  /**
   * Records a revocation for the revocation TTL (REVOCATION_TTL_S), seen by every instance
   * within 1 s, also by one that starts later; open streams it covers get `hub.disconnect`
   * (`reconnect: true`) and end. Rejects with BrokerUnavailableError when it cannot be stored
   * (then nothing was revoked).
   */
  revoke(order: RevokeOrder): Promise<void>;

  /**
   * True when a token with these claims is revoked. Synchronous and cheap (a Map lookup in a
   * set kept current by the control channel): called for every verified token, at connect
   * time, never per event. Never throws.
   */
  isRevoked(claims: StreamOwner): boolean;

  /**
   * The channels matching `matches` with at least one open stream on any instance, busiest
   * first, at most `limit` (figures at most 2 s old). Rejects with BrokerUnavailableError.
   */
  channels(matches: (channel: string) => boolean, limit: number): Promise<ChannelsReport>;

  /**
   * Each live instance's latest figures (at most 2 s old; an instance that stopped reporting
   * leaves within 10 s) and their totals. Rejects with BrokerUnavailableError.
   */
  stats(): Promise<StatsReport>;

  /**
   * Deletes the channel's history and id counter: the next publish starts it again, and
   * resumers get `hub.gap`. Rejects with BrokerUnavailableError.
   */
  deleteHistory(channel: string): Promise<void>;

  /** Stops timers and listeners. Never rejects. */
  close(): Promise<void>;
}

/** A revocation: every token of `sub` issued before `beforeMs` (by `iat`), or one token by `jti`. */
export type Revocation = { readonly sub: string; readonly beforeMs: number } | { readonly jti: string };

/** A revocation in force, and when it stops being one (ms since the epoch). */
export interface StoredRevocation {
  readonly revocation: Revocation;
  readonly expiresAtMs: number;
}

/** `POST /api/disconnect`'s order, as it travels to every instance. */
export interface DisconnectMessage {
  readonly kind: 'disconnect';
  readonly sub: string;
  readonly channel?: string;
  readonly reconnect: boolean;
  readonly reason: string;
}

/** What travels on the control channel: a disconnect order, or a revocation just stored. */
export type ControlMessage = DisconnectMessage | ({ readonly kind: 'revoke' } & StoredRevocation);

/**
 * The operators' orders between instances (the server API): one control channel every instance
 * listens to (on Redis, one more subscription on the subscriber connection the broker already
 * has), the stored revocations, and the deletion of a channel's history. Implementations:
 * MemoryControlStore (one process) and RedisControlStore.
 */
export interface ControlStore {
  /**
   * Starts listening: resolves once messages sent from now on reach `listener` (every
   * instance's, this one's included). Rejects with BrokerUnavailableError.
   */
  listen(listener: (message: ControlMessage) => void): Promise<void>;

  /** Sends a disconnect order to every instance. Rejects with BrokerUnavailableError. */
  sendDisconnect(message: Omit<DisconnectMessage, 'kind'>): Promise<void>;

  /**
   * Stores the revocation for `ttlMs` (for a `sub`, the latest `before` wins) and announces it
   * on the control channel. Rejects with BrokerUnavailableError (then nothing was stored).
   */
  revoke(revocation: Revocation, ttlMs: number): Promise<void>;

  /** Every stored revocation still in force. Rejects with BrokerUnavailableError. */
  loadRevocations(): Promise<StoredRevocation[]>;

  /**
   * Deletes the channel's history and id counter: its next publish starts the ids again.
   * Rejects with BrokerUnavailableError.
   */
  deleteHistory(channel: string): Promise<void>;
}

/** How many issues a subject made in the current window, and when that window ends. */
export interface IssueCount {
  /** Issues counted in the current window, this one included. */
  readonly count: number;
  /** Milliseconds until the window ends and the count starts again. */
  readonly retryAfterMs: number;
}

/**
 * Where stream tickets live for their short lifetime, readable by every instance sharing the
 * store, and where their issues are counted. Implementations: MemoryTicketStore (one process)
 * and RedisTicketStore.
 */
export interface TicketStore {
  /**
   * Stores `value` under `ticket` for `ttlMs`, replacing any earlier value.
   * Rejects with BrokerUnavailableError when the store cannot be reached.
   */
  saveTicket(ticket: string, value: string, ttlMs: number): Promise<void>;

  /**
   * The value saved under `ticket`, or null when there is none or it expired.
   * Rejects with BrokerUnavailableError when the store cannot be reached.
   */
  readTicket(ticket: string): Promise<string | null>;

  /**
   * Counts one issue for `subject` (an opaque name, e.g. a hash: stored as is) in a fixed
   * window of `windowMs` that starts at its first issue, across every instance sharing the
   * store, atomically. Rejects with BrokerUnavailableError when the store cannot be reached.
   */
  countIssue(subject: string, windowMs: number): Promise<IssueCount>;
}

/**
 * Where stream tickets live for their short lifetime, readable by every instance sharing the
 * store. Implementations: MemoryTicketStore (one process) and RedisTicketStore.
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
}

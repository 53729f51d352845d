import { randomBytes } from 'node:crypto';
import type { TicketStore } from '../broker/ticket-store';

/** What a ticket stands for: the token it was issued for, and when the ticket ends. */
export interface TicketRecord {
  readonly token: string;
  readonly expiresAtMs: number;
}

/** 32 random bytes, base64url: 256 bits, well above the 128 API.md asks for. */
const TICKET_BYTES = 32;
const TICKET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Stream tickets: opaque, short-lived stand-ins for an access token, for the one place a
 * browser cannot send a header (EventSource). Stored through the broker, so every instance
 * sharing the Redis accepts them; reusable until they expire, so automatic reconnects work.
 * The token is stored, not its grants: each use verifies it again (signature, expiry, key).
 */
export class Tickets {
  constructor(
    private readonly broker: TicketStore,
    private readonly ttlMs: number,
  ) {}

  /**
   * Issues a ticket for `token`, ending after TICKET_TTL_S or at the token's own expiry,
   * whichever is first. Rejects with BrokerUnavailableError when it cannot be stored.
   */
  async issue(token: string, tokenExpiresAtMs: number): Promise<{ ticket: string; expiresAtMs: number }> {
    const ticket = randomBytes(TICKET_BYTES).toString('base64url');
    const now = Date.now();
    const expiresAtMs = Math.min(now + this.ttlMs, tokenExpiresAtMs);
    const record: TicketRecord = { token, expiresAtMs };
    await this.broker.saveTicket(ticket, JSON.stringify(record), Math.max(1, expiresAtMs - now));
    return { ticket, expiresAtMs };
  }

  /**
   * The record of a live ticket, or null for an unknown, expired or malformed one.
   * Rejects with BrokerUnavailableError when the broker cannot be reached.
   */
  async redeem(ticket: string): Promise<TicketRecord | null> {
    if (!TICKET_SHAPE.test(ticket)) return null;
    const stored = await this.broker.readTicket(ticket);
    if (stored === null) return null;
    const record = JSON.parse(stored) as TicketRecord;
    // Redis expires by its own clock; the ticket ends by ours too, as promised in `expiresAt`.
    return record.expiresAtMs > Date.now() ? record : null;
  }
}

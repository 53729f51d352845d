import { createHash, randomBytes } from 'node:crypto';
import type { TicketStore } from '../broker/ticket-store';
import { AppError } from '../errors';
import { PatternList } from './patterns';
import type { AccessToken } from './tokens';

/**
 * What is stored for a ticket: what it acts with, never the token it was made from (reading the
 * store yields no credential). `iat`, `jti` and `sub` are kept so a revocation of the token can
 * apply to its tickets too.
 */
interface StoredTicket {
  readonly sub: string | null;
  /** The token's `subscribe` patterns (tickets read only: a publish needs the token itself). */
  readonly subscribe: readonly string[];
  readonly info: Record<string, unknown> | null;
  /** When the ticket ends: TICKET_TTL_S after its issue, never past the token's `exp`. */
  readonly expiresAtMs: number;
  /** The token's `iat` in milliseconds since the epoch. */
  readonly issuedAtMs: number | null;
  readonly jti: string | null;
}

/** A live ticket's grants, as the token's (no `publish`), and when the ticket ends. */
export interface TicketGrant {
  readonly token: AccessToken;
  readonly expiresAtMs: number;
}

/** More tickets than TICKETS_PER_MINUTE for one subject: 429, retry after `retryAfterS`. */
export class TooManyTicketsError extends AppError {
  constructor(readonly retryAfterS: number) {
    super('too_many_requests', `too many tickets for this token's subject; retry in ${retryAfterS} s`);
    this.name = 'TooManyTicketsError';
  }
}

/** 32 random bytes, base64url: 256 bits, well above the 128 API.md asks for. */
const TICKET_BYTES = 32;
const TICKET_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const RATE_WINDOW_MS = 60_000;

/**
 * Stream tickets: opaque, short-lived stand-ins for an access token, for the one place a
 * browser cannot send a header (EventSource). Stored through the TicketStore, so every instance
 * sharing the Redis accepts them; reusable until they expire, so automatic reconnects work.
 * What the token grants is stored, not the token: the token was verified at issue.
 */
export class Tickets {
  constructor(
    private readonly store: TicketStore,
    private readonly ttlMs: number,
    private readonly perMinute: number,
  ) {}

  /**
   * Issues a ticket for the verified `token` (`jwt` is its text, counted by when it has no
   * `sub`), ending after TICKET_TTL_S or at the token's own expiry, whichever is first. Rejects
   * with TooManyTicketsError past TICKETS_PER_MINUTE for its subject, BrokerUnavailableError
   * when the ticket cannot be counted or stored.
   */
  async issue(token: AccessToken, jwt: string): Promise<{ ticket: string; expiresAtMs: number }> {
    // Hashed: the counter's key names a subject without holding a sub or a token.
    const subject = createHash('sha256')
      .update(token.sub === null ? `token:${jwt}` : `sub:${token.sub}`)
      .digest('base64url');
    const { count, retryAfterMs } = await this.store.countIssue(subject, RATE_WINDOW_MS);
    if (count > this.perMinute) throw new TooManyTicketsError(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    const ticket = randomBytes(TICKET_BYTES).toString('base64url');
    const now = Date.now();
    const expiresAtMs = Math.min(now + this.ttlMs, token.expiresAtMs);
    const stored: StoredTicket = {
      sub: token.sub,
      subscribe: token.subscribe.sources,
      info: token.info,
      expiresAtMs,
      issuedAtMs: token.issuedAtMs,
      jti: token.jti,
    };
    await this.store.saveTicket(ticket, JSON.stringify(stored), Math.max(1, expiresAtMs - now));
    return { ticket, expiresAtMs };
  }

  /**
   * The grants of a live ticket, or null for an unknown, expired or malformed one.
   * Rejects with BrokerUnavailableError when the store cannot be reached.
   */
  async redeem(ticket: string): Promise<TicketGrant | null> {
    if (!TICKET_SHAPE.test(ticket)) return null;
    const text = await this.store.readTicket(ticket);
    if (text === null) return null;
    const stored = JSON.parse(text) as Partial<StoredTicket>;
    // Redis expires by its own clock; the ticket ends by ours too, as promised in `expiresAt`.
    // A record without grants (made by an older version, which stored the token) is refused.
    if (typeof stored.expiresAtMs !== 'number' || stored.expiresAtMs <= Date.now() || !Array.isArray(stored.subscribe)) return null;
    const token: AccessToken = {
      sub: stored.sub ?? null,
      expiresAtMs: stored.expiresAtMs,
      subscribe: PatternList.compile(stored.subscribe),
      publish: PatternList.EMPTY,
      info: stored.info ?? null,
      issuedAtMs: stored.issuedAtMs ?? null,
      jti: stored.jti ?? null,
    };
    return { token, expiresAtMs: stored.expiresAtMs };
  }
}

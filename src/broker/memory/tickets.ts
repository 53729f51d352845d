import type { IssueCount, TicketStore } from '../ticket-store';

/** The in-process TicketStore: tickets live in this process only, as long as their TTL. */
export class MemoryTicketStore implements TicketStore {
  // Insertion order is near expiry order (one TTL for all tickets, one window for all counts),
  // so sweeping expired entries from the front bounds both maps.
  private readonly tickets = new Map<string, { readonly value: string; readonly expiresAt: number }>();
  private readonly counts = new Map<string, { count: number; readonly endsAt: number }>();

  saveTicket(ticket: string, value: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    for (const [key, entry] of this.tickets) {
      if (entry.expiresAt > now) break;
      this.tickets.delete(key);
    }
    this.tickets.set(ticket, { value, expiresAt: now + ttlMs });
    return Promise.resolve();
  }

  readTicket(ticket: string): Promise<string | null> {
    const entry = this.tickets.get(ticket);
    if (entry === undefined || entry.expiresAt <= Date.now()) return Promise.resolve(null);
    return Promise.resolve(entry.value);
  }

  countIssue(subject: string, windowMs: number): Promise<IssueCount> {
    const now = Date.now();
    for (const [key, entry] of this.counts) {
      if (entry.endsAt > now) break;
      this.counts.delete(key);
    }
    let entry = this.counts.get(subject);
    if (entry === undefined) {
      entry = { count: 0, endsAt: now + windowMs };
      this.counts.set(subject, entry);
    }
    entry.count++;
    return Promise.resolve({ count: entry.count, retryAfterMs: entry.endsAt - now });
  }
}

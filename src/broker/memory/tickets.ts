import type { TicketStore } from '../ticket-store';

/** The in-process TicketStore: tickets live in this process only, as long as their TTL. */
export class MemoryTicketStore implements TicketStore {
  // Insertion order is near expiry order (one TTL for all tickets), so sweeping expired ones
  // from the front bounds the map.
  private readonly tickets = new Map<string, { readonly value: string; readonly expiresAt: number }>();

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
}

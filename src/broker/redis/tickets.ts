import type { IssueCount, TicketStore } from '../ticket-store';
import type { RedisKeys } from './keys';
import type { CommandRunner } from './scripts';

/** The TicketStore on Redis: one key per ticket with its TTL, on the broker's command connection. */
export class RedisTicketStore implements TicketStore {
  constructor(
    private readonly commands: CommandRunner,
    private readonly keys: RedisKeys,
  ) {}

  async saveTicket(ticket: string, value: string, ttlMs: number): Promise<void> {
    await this.commands.run((redis) => redis.set(this.keys.ticket(ticket), value, 'PX', ttlMs));
  }

  readTicket(ticket: string): Promise<string | null> {
    return this.commands.run((redis) => redis.get(this.keys.ticket(ticket)));
  }

  async countIssue(subject: string, windowMs: number): Promise<IssueCount> {
    const [count, retryAfterMs] = (await this.commands.script('ticketRate', [this.keys.ticketRate(subject)], [String(windowMs)])) as [number, number];
    return { count, retryAfterMs };
  }
}

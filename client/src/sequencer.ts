import type { Positions } from './cursor.js';
import type { HistoryPage } from './transport.js';
import type { EventItem, GapItem, PresenceItem } from './types.js';
import type { WireItem } from './wire.js';

/**
 * One step of a subscription's ordered output: an item to yield, or a silent position update
 * (the stream's starting position). `position` is the channel's position once this is handled;
 * `null` for an ephemeral event, whose channel has no position (and no cursor entry).
 */
export type Delivery =
  | { readonly item: EventItem | GapItem; readonly position: string | null }
  | { readonly item: PresenceItem; readonly position: undefined }
  | { readonly item: undefined; readonly channel: string; readonly position: string | null };

/** Reads up to `limit` events of `channel` with id > `after` from the hub's history; `more`: newer ones remain. */
export type HistoryReader = (channel: string, after: string, limit: number) => Promise<HistoryPage>;

/** Largest page the history route serves. */
export const HISTORY_PAGE_LIMIT = 1000;

/**
 * Exact delivery per channel: keeps the position of every channel (the id of the newest event
 * passed on), drops an event it already passed on, and when an id jumps fills the hole from the
 * history before passing on the later event. Only what history cannot fill becomes a gap item.
 * Position `0` means "from the beginning": the next event is taken whatever its id.
 */
export class Sequencer {
  private readonly positions = new Map<string, string>();
  private readonly channels: ReadonlySet<string>;

  constructor(
    channels: Iterable<string>,
    initial: Positions,
    private readonly readHistory: HistoryReader,
    private readonly pageLimit = HISTORY_PAGE_LIMIT,
  ) {
    this.channels = new Set(channels);
    for (const [channel, position] of initial) if (this.channels.has(channel)) this.positions.set(channel, position);
  }

  /** Positions of everything passed on so far (the cursor to connect with). */
  get received(): Positions {
    return this.positions;
  }

  /**
   * The deliveries `item` leads to, in order. Rejects when a history read fails; nothing of
   * that item was passed on then, so reconnecting from `received` loses nothing.
   */
  async accept(item: WireItem): Promise<Delivery[]> {
    switch (item.type) {
      case 'event':
        return this.channels.has(item.channel) ? this.acceptEvent(item) : [];
      case 'gap':
        return this.channels.has(item.channel) ? [this.gap(item.channel, item.lastEventId, item.firstAvailableId)] : [];
      case 'presence':
        if (!this.channels.has(item.channel)) return [];
        return [{ item: { kind: 'presence', channel: item.channel, action: item.action, sub: item.sub, info: item.info }, position: undefined }];
      case 'positions':
        return this.start(item.positions);
      default:
        return [];
    }
  }

  /**
   * A channel without a position takes the one the stream started from. A followed channel
   * missing from the stream's cursor is ephemeral: any position it had is forgotten (null).
   */
  private start(positions: Positions): Delivery[] {
    const deliveries: Delivery[] = [];
    for (const channel of this.channels) {
      const position = positions.get(channel);
      if (position === undefined) {
        if (this.positions.delete(channel)) deliveries.push({ item: undefined, channel, position: null });
      } else if (!this.positions.has(channel)) {
        this.positions.set(channel, position);
        deliveries.push({ item: undefined, channel, position });
      }
    }
    return deliveries;
  }

  private async acceptEvent(event: Extract<WireItem, { type: 'event' }>): Promise<Delivery[]> {
    if (event.id === null) {
      // Ephemeral: nothing to order, fill or resume from; an entry a cursor had is meaningless.
      this.positions.delete(event.channel);
      return [{ item: { kind: 'event', channel: event.channel, id: null, event: event.event, data: event.data }, position: null }];
    }
    const known = this.positions.get(event.channel);
    const id = Number(event.id);
    if (known !== undefined && known !== '0') {
      const position = Number(known);
      if (id <= position) return [];
      if (id > position + 1) {
        const filled = await this.fill(event.channel, position, id);
        filled.push(this.pass(event.channel, event.id, event.event, event.data));
        return filled;
      }
    }
    return [this.pass(event.channel, event.id, event.event, event.data)];
  }

  /**
   * The events of `channel` after `from` and before `to`, from history, page after page while
   * the hub says `more` (a page may stop early at HISTORY_PAGE_BYTES); gaps where it has none.
   */
  private async fill(channel: string, from: number, to: number): Promise<Delivery[]> {
    const deliveries: Delivery[] = [];
    let after = from;
    while (after < to - 1) {
      const wanted = Math.min(this.pageLimit, to - 1 - after);
      const { events, more } = await this.readHistory(channel, String(after), wanted);
      const page = events.filter((event) => {
        const id = Number(event.id);
        return id > after && id < to;
      });
      for (const event of page) {
        if (Number(event.id) > after + 1) deliveries.push(this.gap(channel, String(after), event.id));
        deliveries.push(this.pass(channel, event.id, event.event, event.data));
        after = Number(event.id);
      }
      if (after < to - 1 && (page.length === 0 || !more)) {
        deliveries.push(this.gap(channel, String(after), String(to)));
        break;
      }
    }
    return deliveries;
  }

  private pass(channel: string, id: string, event: string, data: unknown): Delivery {
    this.positions.set(channel, id);
    return { item: { kind: 'event', channel, id, event, data }, position: id };
  }

  /** After a gap the channel continues from `firstAvailableId` (from the beginning when none). */
  private gap(channel: string, lastEventId: string | null, firstAvailableId: string | null): Delivery {
    const position = firstAvailableId === null ? '0' : String(Math.max(0, Number(firstAvailableId) - 1));
    this.positions.set(channel, position);
    return { item: { kind: 'gap', channel, lastEventId, firstAvailableId }, position };
  }
}

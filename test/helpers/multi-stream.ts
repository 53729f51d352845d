import type { SseMessage } from './sse-client';
import { publishId } from './publish';

/** The `data` of an event on `GET /streams`: the channel, the event's id there, its data. */
export interface Envelope {
  readonly channel: string;
  readonly id: string;
  readonly data: unknown;
}

/** The envelope of a multi-channel stream's event (throws on anything else, such as `hub.gap`). */
export function envelopeOf(message: Pick<SseMessage, 'event' | 'data'>): Envelope {
  if (message.event === 'hub.gap') throw new Error(`unexpected hub.gap: ${message.data}`);
  return JSON.parse(message.data) as Envelope;
}

/** Formats a cursor as API.md says: `name=id` per channel, ascending byte order, joined by `,`. */
export function formatCursor(positions: ReadonlyMap<string, number>): string {
  return [...positions.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => `${name}=${positions.get(name)}`)
    .join(',');
}

/** Parses a well-formed cursor (the test's own, or one the server sent). */
export function parseCursor(cursor: string): Map<string, number> {
  return new Map(
    cursor.split(',').map((entry) => {
      const separator = entry.lastIndexOf('=');
      return [entry.slice(0, separator), Number(entry.slice(separator + 1))] as const;
    }),
  );
}

/** `/streams?channel=a&channel=b…` */
export function streamsPath(channels: readonly string[]): string {
  return `/streams?${channels.map((channel) => `channel=${encodeURIComponent(channel)}`).join('&')}`;
}

/** Every id of a channel's history, oldest first (at most 1000). */
export async function historyIds(baseUrl: string, channel: string): Promise<number[]> {
  const response = await fetch(`${baseUrl}/channels/${channel}/events?after=0&limit=1000`);
  if (response.status !== 200) throw new Error(`history of ${channel}: ${response.status}`);
  const { events } = (await response.json()) as { events: Array<{ id: string }> };
  return events.map((event) => Number(event.id));
}

/** Publishes over HTTP and returns the event's id as a number; throws unless the answer is 201. */
export async function publishEvent(baseUrl: string, channel: string, data: unknown): Promise<number> {
  return Number(await publishId(baseUrl, channel, data));
}

/**
 * Checks what one connection of a multi-channel stream delivered against the cursor it resumed
 * from: the id of every event must be the cursor with that event's channel moved to it. Returns
 * the cursor after the last event, and the events by channel. Throws at the first wrong cursor.
 */
export function followCursor(
  start: ReadonlyMap<string, number>,
  messages: readonly SseMessage[],
): { positions: Map<string, number>; byChannel: Map<string, number[]> } {
  const positions = new Map(start);
  const byChannel = new Map<string, number[]>();
  for (const message of messages) {
    const envelope = envelopeOf(message);
    const id = Number(envelope.id);
    if (!positions.has(envelope.channel)) throw new Error(`event of ${envelope.channel}, which the stream does not follow`);
    positions.set(envelope.channel, id);
    const expected = formatCursor(positions);
    if (message.id !== expected) throw new Error(`cursor after ${envelope.channel}=${id}: expected ${expected}, got ${String(message.id)}`);
    const ids = byChannel.get(envelope.channel) ?? [];
    ids.push(id);
    byChannel.set(envelope.channel, ids);
  }
  return { positions, byChannel };
}

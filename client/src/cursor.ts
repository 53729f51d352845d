/**
 * The `/streams` cursor: `name=id` for each channel, in ascending byte order of the names,
 * joined by `,` (for example `orders.eu=1795631322281007,user.42=0`). Pure functions only.
 */

/** A channel name as the hub accepts it. */
export const CHANNEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
/** A position: a decimal integer ≥ 0 of at most 16 digits (ids stay below 2^53). */
export const POSITION_PATTERN = /^[0-9]{1,16}$/;

/** Positions by channel name; a channel missing from the map has no known position yet. */
export type Positions = ReadonlyMap<string, string>;

/**
 * Parses a cursor. `undefined`, `null` and `''` give an empty map. Throws a `TypeError` naming
 * the fault for anything else that is not a `,`-separated list of `name=position` with valid
 * names, each at most once.
 */
export function parseCursor(cursor: string | null | undefined): Map<string, string> {
  const positions = new Map<string, string>();
  if (cursor === undefined || cursor === null || cursor === '') return positions;
  for (const entry of cursor.split(',')) {
    const equals = entry.lastIndexOf('=');
    const name = entry.slice(0, equals);
    const position = entry.slice(equals + 1);
    if (equals === -1 || !CHANNEL_PATTERN.test(name) || !POSITION_PATTERN.test(position)) {
      throw new TypeError(`invalid cursor entry "${entry}": expected name=position`);
    }
    if (positions.has(name)) throw new TypeError(`invalid cursor: channel "${name}" appears twice`);
    positions.set(name, normalizePosition(position));
  }
  return positions;
}

/**
 * Formats positions as a cursor, keeping only `channels` when given. Names are ASCII, so
 * comparing UTF-16 code units sorts them in byte order, as the hub does.
 */
export function formatCursor(positions: Positions, channels?: Iterable<string>): string {
  const names = channels === undefined ? [...positions.keys()] : [...channels].filter((name) => positions.has(name));
  names.sort(compareNames);
  return names.map((name) => `${name}=${positions.get(name) ?? ''}`).join(',');
}

/** Byte order of ASCII names. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `007` → `7`: positions compare as numbers, and one spelling keeps cursors comparable. */
export function normalizePosition(position: string): string {
  return String(Number(position));
}

/** True for a valid channel name. */
export function isChannelName(name: string): boolean {
  return CHANNEL_PATTERN.test(name);
}

import { isValidChannel } from '../event';

/**
 * The multi-channel cursor of `GET /streams`: `name=id` per channel, joined by `,`. Parsed into
 * resume points by channel; formatted by the client in ascending byte order of the names.
 */
export type Cursor = ReadonlyMap<string, number>;

/** The text is not a cursor (the message says why); the route that read it decides the answer. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

/** A resume point, as for a single channel: a decimal integer >= 0 of at most 16 digits. */
const POSITION_PATTERN = /^[0-9]{1,16}$/;
const INVALID_ENTRY = 'Last-Event-ID must be a cursor: comma-separated name=<decimal id> entries, each channel at most once';
const INVALID_POSITION = 'Last-Event-ID must be a decimal integer >= 0 of at most 16 digits';

/**
 * Parses a cursor. Returns null for absent or empty; throws InvalidCursorError for anything that
 * is not a `,`-separated list of `name=<resume point>` with valid, distinct names. Pure: no I/O.
 */
export function parseCursor(text: string | undefined | null): Cursor | null {
  if (text === undefined || text === null || text === '') return null;
  const cursor = new Map<string, number>();
  for (const entry of text.split(',')) {
    const separator = entry.lastIndexOf('=');
    const name = entry.slice(0, separator);
    if (separator < 0 || !isValidChannel(name) || cursor.has(name)) {
      throw new InvalidCursorError(INVALID_ENTRY);
    }
    const position = entry.slice(separator + 1);
    if (!POSITION_PATTERN.test(position)) throw new InvalidCursorError(INVALID_POSITION);
    cursor.set(name, Number(position));
  }
  return cursor;
}

/** Orders channel names as the cursor lists them: ascending byte order (names are ASCII). */
export function sortChannels(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One cursor entry, `name=id`. */
export function cursorEntry(channel: string, id: number): string {
  return `${channel}=${id}`;
}

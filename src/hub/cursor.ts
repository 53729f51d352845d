import { AppError } from '../errors';
import { isValidChannel, parseResumePoint } from '../event';

/**
 * The multi-channel cursor of `GET /streams`: `name=id` per channel, joined by `,`. Parsed into
 * resume points by channel; formatted by the client in ascending byte order of the names.
 */
export type Cursor = ReadonlyMap<string, number>;

const INVALID_CURSOR = 'Last-Event-ID must be a cursor: comma-separated name=<decimal id> entries, each channel at most once';

/**
 * Parses a cursor. Returns null for absent or empty; throws 400 `invalid_last_event_id` for
 * anything that is not a `,`-separated list of `name=<resume point>` with valid, distinct names.
 */
export function parseCursor(text: string | undefined | null): Cursor | null {
  if (text === undefined || text === null || text === '') return null;
  const cursor = new Map<string, number>();
  for (const entry of text.split(',')) {
    const separator = entry.lastIndexOf('=');
    const name = entry.slice(0, separator);
    if (separator < 0 || !isValidChannel(name) || cursor.has(name)) {
      throw new AppError(400, 'invalid_last_event_id', INVALID_CURSOR);
    }
    const position = parseResumePoint(entry.slice(separator + 1) || 'x');
    cursor.set(name, position ?? 0);
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

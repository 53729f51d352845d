import type { StoredEvent } from '../event';
import type { HistoryPage, HistoryQuery } from './broker';

/** HISTORY_PAGE_BYTES' default: most bytes of event JSON one history read returns. */
export const DEFAULT_HISTORY_PAGE_BYTES = 1_048_576;

/**
 * The page of `events` (a consecutive slice, oldest first) read from a retained window
 * `firstId`..`lastId` by `query`, with `more` as HistoryPage defines it. Ids in a history are
 * consecutive, so what lies outside the slice follows from its ends and the window's bounds.
 */
export function pageOf(events: readonly StoredEvent[], firstId: number | null, lastId: number | null, query: HistoryQuery): HistoryPage {
  const first = events[0];
  const last = events[events.length - 1];
  let more = false;
  if (first !== undefined && last !== undefined && firstId !== null && lastId !== null) {
    more = query.after === undefined ? first.id > firstId : last.id < lastId;
  }
  return { events, more, firstId, lastId };
}

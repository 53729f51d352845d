import { AppError } from './errors';

/** A channel name: letters, digits and `_.:-`, 1 to 64 characters, starting alphanumeric. */
export const CHANNEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
/** An event name: like a channel but starting with a letter. `hub.*` names are the server's own. */
export const EVENT_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
export const DEFAULT_EVENT_NAME = 'message';
export const RESERVED_EVENT_PREFIX = 'hub.';
const RESUME_POINT_PATTERN = /^[0-9]{1,16}$/;

/**
 * One event as stored in history and sent through pub/sub. `raw` is the stored JSON text
 * `{"id":"…","event":"…","data":…}` (also the history route's item, byte for byte) and
 * `dataJson` the slice of it holding the data, so neither needs a JSON parse per client.
 */
export interface StoredEvent {
  readonly id: number;
  readonly event: string;
  readonly dataJson: string;
  readonly raw: string;
}

export function isValidChannel(channel: string): boolean {
  return CHANNEL_PATTERN.test(channel);
}

/** Throws 400 `invalid_channel` unless `channel` matches CHANNEL_PATTERN. */
export function assertChannel(channel: string): string {
  if (!isValidChannel(channel)) {
    throw new AppError('invalid_channel', `channel must match ${CHANNEL_PATTERN.source}`);
  }
  return channel;
}

/** True for a name a publisher may use: the pattern, and not in the reserved `hub.` space. */
export function isPublishableEventName(name: string): boolean {
  return EVENT_NAME_PATTERN.test(name) && !name.startsWith(RESERVED_EVENT_PREFIX);
}

/**
 * Parses a resume point (`Last-Event-ID` or `lastEventId`): a decimal integer ≥ 0 of at most 16
 * digits. Returns null for absent or empty; throws 400 `invalid_last_event_id` otherwise.
 */
export function parseResumePoint(value: string | undefined | null): number | null {
  if (value === undefined || value === null || value === '') return null;
  if (!RESUME_POINT_PATTERN.test(value)) {
    throw new AppError(
      'invalid_last_event_id',
      'Last-Event-ID must be a decimal integer >= 0 of at most 16 digits',
    );
  }
  return Number(value);
}

/**
 * Builds the stored text of an event. `dataJson` must be compact JSON (JSON.stringify output) and
 * `event` a validated name, so the result is valid JSON on one line.
 */
export function serializeStoredEvent(id: number, event: string, dataJson: string): string {
  return `{"id":"${id}","event":"${event}","data":${dataJson}}`;
}

const STORED_HEAD = /^\{"id":"([0-9]+)","event":"([^"]+)","data":/;

/** Reads the text `serializeStoredEvent` (or publish.lua) wrote. Throws on anything else. */
export function parseStoredEvent(raw: string): StoredEvent {
  const head = STORED_HEAD.exec(raw);
  if (!head || !raw.endsWith('}')) throw new Error(`malformed stored event: ${raw.slice(0, 80)}`);
  const [matched, id, event] = head as unknown as [string, string, string];
  return { id: Number(id), event, dataJson: raw.slice(matched.length, -1), raw };
}

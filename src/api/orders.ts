import type { ErrorCode } from '../error-codes';
import { AppError } from '../errors';
import { isValidChannel } from '../event';
import { parsePublishBody, type PublishInput } from '../publish-body';
import type { DisconnectOrder, RevokeOrder } from './control-plane';

/** Most channels one broadcast may name. */
export const MAX_BROADCAST_CHANNELS = 1000;
/** Longest `sub`, `jti` and `reason` the API takes (a token's claims are rarely longer). */
const MAX_TEXT_CHARS = 256;
const DEFAULT_REASON = 'disconnected by the operator';
// ISO 8601 date and time with a zone, as Date.prototype.toISOString writes it and RFC 3339 allows.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** A validated broadcast: the channels as given (each validated on its own) and one event. */
export interface BroadcastOrder {
  readonly channels: readonly string[];
  readonly input: PublishInput;
}

/**
 * Validates `POST /api/broadcast`'s body: `channels`, 1 to 1000 distinct strings, and the
 * event exactly as a publish validates it (parsePublishBody, data taken from `text`). An
 * invalid channel name is not refused here: it gets its own error in the results.
 * Throws 400 `invalid_channel` or `invalid_event`.
 */
export function parseBroadcast(body: unknown, text: string): BroadcastOrder {
  const fields = objectBody(body, 'invalid_event', '{"channels": [...], "event"?: string, "data": any}');
  const { channels, ...event } = fields;
  if (!Array.isArray(channels) || channels.length === 0 || channels.length > MAX_BROADCAST_CHANNELS || !channels.every((c) => typeof c === 'string')) {
    throw new AppError('invalid_channel', `"channels" must be a list of 1 to ${MAX_BROADCAST_CHANNELS} channel names`);
  }
  const names: string[] = channels;
  if (new Set(names).size !== names.length) throw new AppError('invalid_channel', '"channels" must not repeat a channel');
  // The same checks as a publish; `channels` is taken out of the object, the data comes from the text.
  return { channels: names, input: parsePublishBody(event, text) };
}

/** Validates `POST /api/disconnect`'s body. Throws 400 `invalid_body` / `invalid_channel`. */
export function parseDisconnect(body: unknown): DisconnectOrder {
  const fields = objectBody(body, 'invalid_body', '{"sub": string, "channel"?: string, "reconnect"?: boolean, "reason"?: string}');
  onlyKeys(fields, ['sub', 'channel', 'reconnect', 'reason']);
  const sub = text(fields.sub, 'sub');
  const { channel, reconnect, reason } = fields;
  if (channel !== undefined && (typeof channel !== 'string' || !isValidChannel(channel))) {
    throw new AppError('invalid_channel', '"channel" must be a channel name');
  }
  if (reconnect !== undefined && typeof reconnect !== 'boolean') throw invalidBody('"reconnect" must be true or false');
  return {
    sub,
    ...(channel === undefined ? {} : { channel }),
    reconnect: reconnect ?? true,
    reason: reason === undefined ? DEFAULT_REASON : text(reason, 'reason'),
  };
}

/**
 * Validates `POST /api/revoke`'s body: exactly one of `sub` (with an optional ISO `before`,
 * default `nowMs`) and `jti`. Throws 400 `invalid_body`.
 */
export function parseRevoke(body: unknown, nowMs: number): RevokeOrder {
  const fields = objectBody(body, 'invalid_body', '{"sub": string, "before"?: ISO time} or {"jti": string}');
  onlyKeys(fields, ['sub', 'before', 'jti']);
  if ((fields.sub === undefined) === (fields.jti === undefined)) throw invalidBody('give exactly one of "sub" and "jti"');
  if (fields.jti !== undefined) {
    if (fields.before !== undefined) throw invalidBody('"before" goes with "sub" only');
    return { jti: text(fields.jti, 'jti') };
  }
  const sub = text(fields.sub, 'sub');
  if (fields.before === undefined) return { sub, beforeMs: nowMs };
  const beforeMs = typeof fields.before === 'string' && ISO_TIME.test(fields.before) ? Date.parse(fields.before) : NaN;
  if (!Number.isFinite(beforeMs)) throw invalidBody('"before" must be an ISO time such as 2026-12-01T10:00:00Z');
  return { sub, beforeMs };
}

function objectBody(body: unknown, code: ErrorCode, shape: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AppError(code, `the body must be a JSON object ${shape}`);
  return body as Record<string, unknown>;
}

function onlyKeys(fields: Record<string, unknown>, allowed: readonly string[]): void {
  const unknownKey = Object.keys(fields).find((key) => !allowed.includes(key));
  if (unknownKey !== undefined) throw invalidBody(`unknown field "${unknownKey}"; allowed: ${allowed.join(', ')}`);
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_TEXT_CHARS) {
    throw invalidBody(`"${name}" must be a string of 1 to ${MAX_TEXT_CHARS} characters`);
  }
  return value;
}

function invalidBody(message: string): AppError {
  return new AppError('invalid_body', message);
}

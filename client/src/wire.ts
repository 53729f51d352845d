import { isChannelName, parseCursor, POSITION_PATTERN } from './cursor.js';
import { isRecord } from './errors.js';
import type { SseMessage } from './sse-parser.js';

/** What a message of a `/streams` response means to a subscription. */
export type WireItem =
  /** `id` null: an event of an ephemeral channel (`history: 0`), which has no position. */
  | { readonly type: 'event'; readonly channel: string; readonly id: string | null; readonly event: string; readonly data: unknown }
  | { readonly type: 'gap'; readonly channel: string; readonly lastEventId: string | null; readonly firstAvailableId: string | null }
  | {
      readonly type: 'presence';
      readonly channel: string;
      readonly action: 'join' | 'leave';
      readonly sub: string;
      readonly info: Record<string, unknown> | null;
    }
  | { readonly type: 'positions'; readonly positions: ReadonlyMap<string, string> }
  | { readonly type: 'reauth'; readonly expiresAtMs: number }
  | { readonly type: 'disconnect'; readonly reason: string; readonly reconnect: boolean }
  | { readonly type: 'retry'; readonly retryMs: number }
  | { readonly type: 'heartbeat' };

/**
 * Interprets one parsed message. Returns undefined for what a subscription ignores (an event
 * whose envelope is malformed, an unknown `hub.` event): a newer hub may send more than this
 * client knows.
 */
export function interpretMessage(message: SseMessage): WireItem | undefined {
  switch (message.type) {
    case 'comment':
      return { type: 'heartbeat' };
    case 'retry':
      return { type: 'retry', retryMs: message.retryMs };
    case 'id':
      return positionsOf(message.id);
    case 'event':
      return message.event.startsWith('hub.') ? hubEvent(message.event, parseJson(message.data)) : envelope(message.event, message.data);
  }
}

function positionsOf(cursor: string): WireItem | undefined {
  try {
    return { type: 'positions', positions: parseCursor(cursor) };
  } catch {
    return undefined;
  }
}

function envelope(event: string, text: string): WireItem | undefined {
  const value = parseJson(text);
  if (!isRecord(value) || typeof value.channel !== 'string' || !('data' in value) || !isChannelName(value.channel)) return undefined;
  const id = value.id === null ? null : idOrNull(value.id);
  if (id === null && value.id !== null) return undefined;
  return { type: 'event', channel: value.channel, id, event, data: value.data };
}

function hubEvent(event: string, data: unknown): WireItem | undefined {
  if (!isRecord(data)) return undefined;
  if (event === 'hub.gap' && typeof data.channel === 'string') {
    return { type: 'gap', channel: data.channel, lastEventId: idOrNull(data.lastEventId), firstAvailableId: idOrNull(data.firstAvailableId) };
  }
  if (event === 'hub.reauth' && typeof data.expiresAt === 'string') {
    const expiresAtMs = Date.parse(data.expiresAt);
    return Number.isFinite(expiresAtMs) ? { type: 'reauth', expiresAtMs } : undefined;
  }
  if (event === 'hub.disconnect') {
    return { type: 'disconnect', reason: typeof data.reason === 'string' ? data.reason : '', reconnect: data.reconnect === true };
  }
  if ((event === 'hub.join' || event === 'hub.leave') && typeof data.channel === 'string' && typeof data.sub === 'string') {
    const info = isRecord(data.info) ? data.info : null;
    return { type: 'presence', channel: data.channel, action: event === 'hub.join' ? 'join' : 'leave', sub: data.sub, info };
  }
  return undefined;
}

function idOrNull(value: unknown): string | null {
  return typeof value === 'string' && POSITION_PATTERN.test(value) ? value : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

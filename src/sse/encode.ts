/**
 * Pure encoders for the SSE wire format. Every field value written here is either a validated
 * id/name (no CR, LF or NUL) or compact JSON (never contains a raw line break), so no input can
 * add a field or an event.
 */

/** One event: `id:`, `event:`, `data:` lines and the blank line that dispatches it. */
export function encodeEvent(id: number, event: string, dataJson: string): Buffer {
  return Buffer.from(`id: ${id}\nevent: ${event}\ndata: ${dataJson}\n\n`);
}

/** An event without an id, so it does not move the client's resume point (used for `hub.gap`). */
export function encodeUnidentifiedEvent(event: string, dataJson: string): Buffer {
  return Buffer.from(`event: ${event}\ndata: ${dataJson}\n\n`);
}

/** The `id:` line alone, to stand before an event's other lines (a stream's own cursor). */
export function encodeId(id: string): Buffer {
  return Buffer.from(`id: ${id}\n`);
}

/**
 * An id-only block: sets the client's last event id without dispatching an event (no `data:`),
 * so a stream that drops before its first event still resumes from where it started.
 */
export function encodePosition(id: string): Buffer {
  return Buffer.from(`id: ${id}\n\n`);
}

/** A comment line; clients ignore it, proxies see traffic. */
export function encodeComment(text: string): Buffer {
  return Buffer.from(`: ${text.replace(/[\r\n]/g, ' ')}\n\n`);
}

/** The reconnection delay the client's EventSource should use. */
export function encodeRetry(retryMs: number): Buffer {
  return Buffer.from(`retry: ${Math.max(0, Math.floor(retryMs))}\n\n`);
}

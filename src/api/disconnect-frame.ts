import { encodeUnidentifiedEvent } from '../sse/encode';

/** `event: hub.disconnect` with `{"reason","reconnect"}` and no id, encoded once per order. */
export function disconnectFrame(reason: string, reconnect: boolean): Buffer {
  // JSON.stringify escapes line breaks, so the reason cannot add a field.
  return encodeUnidentifiedEvent('hub.disconnect', JSON.stringify({ reason, reconnect }));
}

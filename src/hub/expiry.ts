import { encodeUnidentifiedEvent } from '../sse/encode';
import type { Clock } from './clock';
import type { HubClient } from './client';
import type { Deadlines } from './deadlines';

/** `hub.reauth` comes this long before expiry, or at half the credential's life when shorter. */
export const REAUTH_LEAD_MS = 60_000;
/** The last instant a Date can show: an expiry beyond it (exp 1e300, Infinity) never comes. */
const LAST_DATE_MS = 8.64e15;

const NOTHING_TO_CANCEL = (): void => undefined;

/**
 * Schedules a stream's credential expiry: `hub.reauth` ahead of `expiresAtMs`, then the end at
 * it. Returns what cancels both (called when the stream closes, so nothing of it outlives the
 * stream). An expiry that is not a time a Date can show is never reached: nothing is scheduled.
 */
export function scheduleExpiry(deadlines: Deadlines, clock: Clock, client: HubClient, expiresAtMs: number): () => void {
  if (Number.isNaN(expiresAtMs) || expiresAtMs > LAST_DATE_MS) return NOTHING_TO_CANCEL;
  // Long past is as good as just past, and stays a time a Date can show.
  const atMs = Math.max(expiresAtMs, -LAST_DATE_MS);
  const leadMs = Math.min(REAUTH_LEAD_MS, Math.max(0, (atMs - clock.now()) / 2));
  const reauth = deadlines.add(atMs - leadMs, () => client.write(reauthFrame(atMs)));
  const end = deadlines.add(atMs, () => client.end());
  return () => {
    deadlines.cancel(reauth);
    deadlines.cancel(end);
  };
}

function reauthFrame(expiresAtMs: number): Buffer {
  return encodeUnidentifiedEvent('hub.reauth', JSON.stringify({ expiresAt: new Date(expiresAtMs).toISOString() }));
}

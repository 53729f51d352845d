import type { PassThrough } from 'node:stream';
import type { Framing } from './stream-channel';
import type { StreamOwner } from './stream-owner';

/** One channel a stream asks for, and where it resumes (null = live only). */
export interface ChannelRequest {
  readonly name: string;
  readonly resumePoint: number | null;
}

/** What a stream request asks of the hub. */
export interface ConnectRequest {
  /** Validated, distinct channel names. */
  readonly channels: readonly ChannelRequest[];
  /** `multi` for `GET /streams` (envelope data, the cursor as each event's id), else `single`. */
  readonly framing: Framing;
  readonly stream: PassThrough;
  /** Destroys the client's connection (used to drop a slow client at once). */
  readonly abortConnection: () => void;
  /** When the credential that authorized the stream expires: `hub.reauth` before, the end at it. */
  readonly expiresAtMs?: number | null;
  /** Who opened the stream (its credential's claims), so the server API can end it. */
  readonly owner?: StreamOwner;
}

import type { HubClient } from './client';
import type { ChannelFrame } from './frames';

/** One channel of one stream: how far the stream got in it, and what waits while it replays. */
export class Subscription {
  /** The ordering key of the newest item of this channel written to the stream. */
  lastSentKey = 0;
  /** Live items held back while this channel replays history; null once live. */
  replayQueue: ChannelFrame[] | null = null;

  constructor(
    readonly client: HubClient,
    readonly channel: string,
    /** This channel's place in the stream's cursor (channels in ascending byte order). */
    readonly index: number,
  ) {}
}

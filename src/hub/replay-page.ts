import type { EventBroker, HistoryPage } from '../broker/broker';
import { ChannelFrame } from './frames';

/** Events per history read while replaying; the stream must take one page before the next. */
export const REPLAY_PAGE_EVENTS = 200;

/**
 * A page of history as replay writes it: the events' frames, encoded once for every stream that
 * reads the page (HubChannel.replayPage shares it while no new item has come), and their
 * single-channel bytes joined once.
 */
export class ReplayPage {
  private joined: Buffer | undefined;

  constructor(
    readonly page: HistoryPage,
    readonly frames: readonly ChannelFrame[],
  ) {}

  /** Every frame's single-channel bytes in one buffer, joined on first use. */
  joinedSingles(): Buffer {
    this.joined ??= this.frames.length === 1 ? (this.frames[0] as ChannelFrame).single : Buffer.concat(this.frames.map((frame) => frame.single));
    return this.joined;
  }
}

/** Reads the page of `channel` after `after` and builds its frames. */
export async function readReplayPage(broker: EventBroker, channel: string, after: number): Promise<ReplayPage> {
  const page = await broker.history(channel, { after, limit: REPLAY_PAGE_EVENTS });
  return new ReplayPage(
    page,
    page.events.map((event) => ChannelFrame.event(channel, event)),
  );
}

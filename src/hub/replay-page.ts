import type { EventBroker, HistoryPage } from '../broker/broker';
import { ChannelFrame } from './frames';

/** Events per history read while replaying; the stream must take one page before the next. */
export const REPLAY_PAGE_EVENTS = 200;

/**
 * A page of history as replay writes it: the events' frames, encoded once for every stream that
 * reads the page (HubChannel.replayPage shares it while no new item has come).
 */
export interface ReplayPage {
  readonly page: HistoryPage;
  readonly frames: readonly ChannelFrame[];
}

/** Reads the page of `channel` after `after` and builds its frames. */
export async function readReplayPage(broker: EventBroker, channel: string, after: number): Promise<ReplayPage> {
  const page = await broker.history(channel, { after, limit: REPLAY_PAGE_EVENTS });
  return { page, frames: page.events.map((event) => ChannelFrame.event(channel, event)) };
}

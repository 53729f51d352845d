import type { Logger } from 'pino';
import type { Metrics } from '../metrics';
import type { HubChannel } from './channel';
import { ChannelFrame } from './frames';
import type { EventBroker } from '../broker/broker';
import type { Clock } from './clock';
import { readReplayPage, type ReplayPage } from './replay-page';
import type { StreamChannel } from './stream-channel';

export interface ReplayContext {
  readonly broker: EventBroker;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
 * Sends one channel's history after the resume point to one stream, in pages, waiting for the
 * stream to take each one (so a wave of reconnects holds at most a page per stream), then the
 * live items held back meanwhile, then the channel moves the stream to its live set. A resume
 * point that history cannot honour gets a `hub.gap` notice first. If history is unreachable the
 * stream is ended: the client retries.
 */
export async function replayThenLive(channel: HubChannel, stream: StreamChannel, resumePoint: number, context: ReplayContext): Promise<void> {
  const client = stream.client;
  const readAlone = (after: number): Promise<ReplayPage> => readReplayPage(context.broker, channel.name, after);
  // Streams resuming from the same point share the page while no new item has come (a storm).
  // One that joined another's read which failed tries once alone before it ends: a Redis timeout
  // during a storm would otherwise end every stream that shared that read at once.
  const read = async (after: number): Promise<ReplayPage> => {
    let own = false;
    const shared = channel.replayPage(stream, after, context.clock.now(), () => {
      own = true;
      return readAlone(after);
    });
    try {
      return await shared;
    } catch (error) {
      if (own) throw error;
      return readAlone(after);
    }
  };
  const writeGap = (lastEventId: number, firstAvailableId: number | null): void => {
    const notice = ChannelFrame.gap(channel.name, lastEventId, firstAvailableId, 0);
    client.write(stream.framing === 'multi' ? notice.multi : notice.single);
  };
  try {
    // Let the route open the response (openEventStream) first: unwritten bytes would count as a slow client.
    await new Promise<void>((resolve) => setImmediate(resolve));
    // A stream that left reads nothing more (and a read for it would not be shared).
    if (client.closed) return;
    let replayed = await read(resumePoint);
    const { firstId, lastId } = replayed.page;
    const gap = resumePoint > 0 && (firstId === null || lastId === null || resumePoint < firstId - 1 || resumePoint > lastId);
    if (gap) {
      writeGap(resumePoint, firstId);
      if (lastId !== null && resumePoint > lastId) {
        if (client.closed) return;
        replayed = await read(0);
      }
    } else {
      stream.advanceTo(resumePoint);
    }
    for (;;) {
      if (client.closed) return;
      const { page, frames } = replayed;
      const last = page.events[page.events.length - 1];
      if (!last) break;
      const shared = replayed;
      stream.writeItems(frames, () => shared.joinedSingles());
      context.metrics.eventsReplayed.inc(page.events.length);
      // A page may end early, cut by HISTORY_PAGE_BYTES: `more`, not its length, says whether to read on.
      if (!page.more) break;
      await client.drained();
      if (client.closed) return;
      replayed = await read(last.id);
      // Trimmed while this stream read the previous pages: say so before going on.
      if (replayed.page.firstId !== null && replayed.page.firstId > last.id + 1) writeGap(last.id, replayed.page.firstId);
    }
    channel.goLive(stream);
  } catch (error) {
    context.logger.warn({ err: error, channel: channel.name }, 'replay failed; ending stream');
    client.end();
  }
}

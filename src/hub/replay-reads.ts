import type { EventBroker, HistoryPage } from '../broker/broker';
import { ChannelFrame } from './frames';

/** Events per history read while replaying; the stream must take one page before the next. */
export const REPLAY_PAGE_EVENTS = 200;

/** A page of history as replay writes it: the events' frames, encoded once for every stream that reads it. */
export interface ReplayPage {
  readonly page: HistoryPage;
  readonly frames: readonly ChannelFrame[];
}

interface Reading {
  /** The read's place in the order reads were started (replayReads.started when it began). */
  readonly order: number;
  readonly result: Promise<ReplayPage>;
}

/**
 * The history reads of replaying streams. A reconnect storm resumes thousands of streams from the
 * same point of the same channel: streams that need the same page while a read of it is in flight
 * share that read, its decoded events and their encoded frames, instead of each asking Redis and
 * encoding 100 events of its own. A stream shares only a read begun after it started holding live
 * events back (`joinableFrom`), so the page and the held-back events still meet without a hole.
 */
export class ReplayReads {
  private readonly inFlight = new Map<string, Reading>();
  private started = 0;

  constructor(private readonly broker: EventBroker) {}

  /** The mark a stream takes when it starts holding live events back: reads begun from now on are its to share. */
  joinableFrom(): number {
    return this.started;
  }

  /** The page of `channel` after `after`, shared with a read of the same page begun at or after `from`. */
  read(channel: string, after: number, from: number): Promise<ReplayPage> {
    const key = `${after} ${channel}`;
    const reading = this.inFlight.get(key);
    if (reading !== undefined && reading.order >= from) return reading.result;
    const order = this.started++;
    const result = this.broker.history(channel, { after, limit: REPLAY_PAGE_EVENTS }).then((page) => ({
      page,
      frames: page.events.map((event) => ChannelFrame.event(channel, event)),
    }));
    this.inFlight.set(key, { order, result });
    const forget = (): void => {
      if (this.inFlight.get(key)?.order === order) this.inFlight.delete(key);
    };
    result.then(forget, forget);
    return result;
  }
}

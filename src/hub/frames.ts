import type { StoredEvent } from '../event';
import { encodeEvent, encodeUnidentifiedEvent } from '../sse/encode';
import { cursorEntry } from './cursor';

/**
 * One item of a channel's ordered delivery (an event, or a `hub.gap` notice before one), with its
 * bytes for both kinds of stream. Each form is encoded at most once, on first use, and then
 * shared by every client that gets the item.
 */
export class ChannelFrame {
  private singleFrame: Buffer | undefined;
  private multiFrame: Buffer | undefined;
  private entryText: string | undefined;

  private constructor(
    readonly channel: string,
    /**
     * Ordering key: the event's id; a gap notice takes the next event's id minus one half; an
     * ephemeral event, which has no id, its channel's own count of ephemeral events.
     */
    readonly key: number,
    private readonly event: StoredEvent | null,
    private readonly gap: { lastEventId: number; firstAvailableId: number | null } | null,
    private readonly ephemeral: { event: string; dataJson: string } | null = null,
  ) {}

  static event(channel: string, event: StoredEvent): ChannelFrame {
    return new ChannelFrame(channel, event.id, event, null);
  }

  /** An event of an ephemeral channel: no `id:` line, `"id":null` in the envelope, no cursor entry. */
  static ephemeral(channel: string, key: number, event: string, dataJson: string): ChannelFrame {
    return new ChannelFrame(channel, key, null, null, { event, dataJson });
  }

  /** A `hub.gap` notice: events after `lastEventId` are lost; `firstAvailableId` is the next one. */
  static gap(channel: string, lastEventId: number, firstAvailableId: number | null, key: number): ChannelFrame {
    return new ChannelFrame(channel, key, null, { lastEventId, firstAvailableId });
  }

  /** The event's id, or null for a gap notice or an ephemeral event (no id, no position moved). */
  get eventId(): number | null {
    return this.event === null ? null : this.event.id;
  }

  /** The whole frame for a single-channel stream: `id:`, `event:`, `data:` (the data as stored). */
  get single(): Buffer {
    this.singleFrame ??= this.event
      ? encodeEvent(this.event.id, this.event.event, this.event.dataJson)
      : this.ephemeral
        ? encodeUnidentifiedEvent(this.ephemeral.event, this.ephemeral.dataJson)
        : gapFrame(this.gap, undefined);
    return this.singleFrame;
  }

  /**
   * For a multi-channel stream: `event:` and the envelope `data:` line, without the `id:` line,
   * which carries each stream's own cursor. A gap notice is complete as it is (it has no id).
   */
  get multi(): Buffer {
    this.multiFrame ??= this.event
      ? encodeUnidentifiedEvent(this.event.event, `{"channel":"${this.channel}","id":"${this.event.id}","data":${this.event.dataJson}}`)
      : this.ephemeral
        ? encodeUnidentifiedEvent(this.ephemeral.event, `{"channel":"${this.channel}","id":null,"data":${this.ephemeral.dataJson}}`)
        : gapFrame(this.gap, this.channel);
    return this.multiFrame;
  }

  /** `channel=id`, the cursor entry after this event. */
  get entry(): string {
    this.entryText ??= cursorEntry(this.channel, this.event?.id ?? 0);
    return this.entryText;
  }
}

function gapFrame(gap: { lastEventId: number; firstAvailableId: number | null } | null, channel: string | undefined): Buffer {
  const data = {
    ...(channel === undefined ? {} : { channel }),
    lastEventId: String(gap?.lastEventId ?? 0),
    firstAvailableId: gap?.firstAvailableId === null || gap?.firstAvailableId === undefined ? null : String(gap.firstAvailableId),
  };
  return encodeUnidentifiedEvent('hub.gap', JSON.stringify(data));
}

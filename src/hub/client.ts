import type { PassThrough } from 'node:stream';
import { encodeId } from '../sse/encode';
import { sendDirect } from '../sse/feed-response';
import { cursorEntry } from './cursor';
import type { ChannelFrame } from './frames';
import { Subscription } from './subscription';

/** Where each channel of a stream starts: its resume point, or its newest id for live only. */
export interface StartPosition {
  readonly channel: string;
  readonly position: number;
}

/**
 * One connected stream, following one channel or (for `GET /streams`) several. The hub writes
 * shared buffers to it; per-client work is a write and a length check, plus, on a multi-channel
 * stream, the cursor line that only this stream's positions decide.
 */
export class HubClient {
  /** One per channel, in cursor order (ascending byte order of the names). */
  readonly subscriptions: readonly Subscription[];
  closed = false;
  lastWriteAtMs = Date.now();
  /** Multi-channel only: `name=id` per channel, the newest event sent (or the start position). */
  private readonly entries: string[];

  constructor(
    start: readonly StartPosition[],
    /** True for `GET /streams`: envelope data and a cursor as the id. */
    readonly multi: boolean,
    private readonly stream: PassThrough,
    private readonly maxUnsentBytes: number,
    private readonly onSlow: (client: HubClient) => void,
    private readonly abortConnection: () => void,
  ) {
    this.subscriptions = start.map(({ channel }, index) => new Subscription(this, channel, index));
    // Only a multi-channel stream writes a cursor.
    this.entries = multi ? start.map(({ channel, position }) => cursorEntry(channel, position)) : [];
    // A write racing the client's disconnect may error; the close handler cleans up.
    stream.on('error', ignoreError);
  }

  /** The multi-channel cursor: every channel's newest event sent, or where it started. */
  get cursor(): string {
    return this.entries.join(',');
  }

  /** Writes a frame; a client still holding more than its limit unsent is reported slow instead. */
  write(frame: Buffer, nowMs = Date.now()): void {
    if (this.closed) return;
    this.lastWriteAtMs = nowMs;
    // Nothing queued and the socket takes more: straight to the socket.
    if (sendDirect(this.stream, frame)) return;
    // Judged on what is still queued from earlier writes: a frame just written is in transit
    // through the PassThrough until the next tick, and a large replay page is not slowness.
    if (this.stream.writableLength + this.stream.readableLength > this.maxUnsentBytes) {
      this.onSlow(this);
      return;
    }
    this.stream.write(frame);
  }

  /** Writes items of one channel encoded for this stream, and moves its position past them. */
  writeItems(subscription: Subscription, items: readonly ChannelFrame[]): void {
    const last = items[items.length - 1];
    if (!last) return;
    this.write(this.multi ? this.encodeMulti(subscription.index, items) : concat(items.map((item) => item.single)));
    subscription.lastSentKey = last.key;
  }

  /**
   * Encodes items of the channel at `index` with this stream's cursor lines, and records the
   * newest event's entry. Streams with equal `cursorContext(index)` get equal bytes.
   */
  encodeMulti(index: number, items: readonly ChannelFrame[]): Buffer {
    const [before, after] = this.cursorContext(index);
    const parts: Buffer[] = [];
    for (const item of items) {
      if (item.eventId !== null) {
        parts.push(encodeId(before + item.entry + after));
        this.entries[index] = item.entry;
      }
      parts.push(item.multi);
    }
    return concat(parts);
  }

  /** The cursor around the channel at `index`: the entries before it and after it, with commas. */
  cursorContext(index: number): [string, string] {
    const before = index === 0 ? '' : `${this.entries.slice(0, index).join(',')},`;
    const after = index === this.entries.length - 1 ? '' : `,${this.entries.slice(index + 1).join(',')}`;
    return [before, after];
  }

  /** Records that the channel at `index` reached `entry` through bytes encoded elsewhere. */
  setEntry(index: number, entry: string): void {
    this.entries[index] = entry;
  }

  /** Resolves when the stream can take more (at once unless its buffer is full), or has closed. */
  drained(): Promise<void> {
    if (this.closed || !this.stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
    });
  }

  /** Ends the stream gracefully (the client reconnects and resumes). */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.end();
  }

  /** Drops the connection at once, freeing what it holds unsent. */
  abort(): void {
    this.closed = true;
    this.stream.destroy();
    this.abortConnection();
  }

  onClose(listener: () => void): void {
    this.stream.once('close', listener);
  }
}

/** One listener for every stream, rather than a closure each. */
function ignoreError(): void {}

function concat(parts: readonly Buffer[]): Buffer {
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

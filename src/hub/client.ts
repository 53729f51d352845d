import type { PassThrough } from 'node:stream';
import { encodeId } from '../sse/encode';
import { sendDirect } from '../sse/feed-response';
import { cursorEntry } from './cursor';
import type { ChannelFrame } from './frames';
import { StreamChannel, type Framing } from './stream-channel';

/** Where each channel of a stream starts: its resume point, or its newest id for live only. */
export interface StartPosition {
  readonly channel: string;
  readonly position: number;
  /** An ephemeral channel: no cursor entry on a multi-channel stream. */
  readonly ephemeral?: boolean;
}

/**
 * One connected stream, following one channel or (for `GET /streams`) several. The hub writes
 * shared buffers to it; per-client work is a write and a length check, plus, on a multi-channel
 * stream, the cursor line that only this stream's positions decide. It owns whether it is open.
 */
export class HubClient {
  /** One per channel, in cursor order (ascending byte order of the names). */
  readonly streamChannels: readonly StreamChannel[];
  private isOpen = true;
  private lastWriteAtMs = Date.now();
  /** Multi-channel only: `name=id` per channel, the newest event sent (or the start position). */
  private readonly entries: string[];

  constructor(
    start: readonly StartPosition[],
    readonly framing: Framing,
    private readonly stream: PassThrough,
    private readonly maxUnsentBytes: number,
    private readonly onSlow: (client: HubClient) => void,
    private readonly abortConnection: () => void,
  ) {
    // Only a multi-channel stream writes a cursor, and an ephemeral channel has no entry in it.
    this.entries = [];
    this.streamChannels = start.map(({ channel, position, ephemeral }) => {
      if (framing === 'single') return new StreamChannel(this, channel, 0, framing);
      if (ephemeral === true) return new StreamChannel(this, channel, -1, framing);
      this.entries.push(cursorEntry(channel, position));
      return new StreamChannel(this, channel, this.entries.length - 1, framing);
    });
    // A write racing the client's disconnect may error; the close handler cleans up.
    stream.on('error', ignoreError);
  }

  /** True once the stream ended, was dropped or closed: nothing more is written to it. */
  get closed(): boolean {
    return !this.isOpen;
  }

  /** The multi-channel cursor: every channel's newest event sent, or where it started. */
  get cursor(): string {
    return this.entries.join(',');
  }

  /** Writes a frame; a client still holding more than its limit unsent is reported slow instead. */
  write(frame: Buffer, nowMs = Date.now()): void {
    if (!this.isOpen) return;
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
    if (!this.isOpen || !this.stream.writableNeedDrain) return Promise.resolve();
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
    if (!this.isOpen) return;
    this.isOpen = false;
    this.stream.end();
  }

  /** Drops the connection at once, freeing what it holds unsent. */
  abort(): void {
    this.discard();
    this.abortConnection();
  }

  /** Destroys the stream but not the connection (the request can still be answered). */
  discard(): void {
    this.isOpen = false;
    this.stream.destroy();
  }

  /** Writes `frame` when nothing was written for `idleMs`. */
  writeIfIdle(frame: Buffer, idleMs: number, nowMs: number): void {
    if (nowMs - this.lastWriteAtMs >= idleMs) this.write(frame, nowMs);
  }

  /** Calls `listener` once the stream has closed (after which `closed` is true). */
  onClose(listener: () => void): void {
    this.stream.once('close', () => {
      this.isOpen = false;
      listener();
    });
  }
}

/** One listener for every stream, rather than a closure each. */
function ignoreError(): void {}

function concat(parts: readonly Buffer[]): Buffer {
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

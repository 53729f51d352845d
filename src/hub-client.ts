import type { PassThrough } from 'node:stream';

/** A frame queued for a client that is still replaying history, with its ordering key. */
export interface KeyedFrame {
  /** The event's id; a `hub.gap` notice takes the next event's id minus one half. */
  readonly key: number;
  readonly frame: Buffer;
}

/**
 * One connected stream. The hub writes shared buffers to it; per-client work is a write and a
 * length check. `lastSentKey` lets the hub skip what a client already got from history.
 */
export class HubClient {
  /** The ordering key of the newest event written to this client. */
  lastSentKey = 0;
  /** Live frames held back while the client replays history; null once live. */
  replayQueue: KeyedFrame[] | null = null;
  closed = false;

  constructor(
    readonly channel: string,
    private readonly stream: PassThrough,
    private readonly maxUnsentBytes: number,
    private readonly onSlow: (client: HubClient) => void,
    private readonly abortConnection: () => void,
  ) {
    // A write racing the client's disconnect may error; the close handler cleans up.
    stream.on('error', () => undefined);
  }

  /** Writes a frame; a client still holding more than its limit unsent is reported slow instead. */
  write(frame: Buffer): void {
    if (this.closed) return;
    // Judged on what is still queued from earlier writes: a frame just written is in transit
    // through the PassThrough until the next tick, and a large replay page is not slowness.
    if (this.stream.writableLength + this.stream.readableLength > this.maxUnsentBytes) {
      this.onSlow(this);
      return;
    }
    this.stream.write(frame);
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

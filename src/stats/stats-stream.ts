import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { encodeRetry, encodeUnidentifiedEvent } from '../sse/encode';
import { openEventStream } from '../sse/stream';

export interface StatsStreamOptions {
  /** The figures to send (ControlPlane.stats). */
  readonly read: () => Promise<unknown>;
  readonly retryMs: number;
  readonly logger: Logger;
  /** Default 1000. */
  readonly intervalMs?: number;
}

/** A dashboard that holds this much unsent has stopped reading: its stream is ended. */
const MAX_UNSENT_BYTES = 256 * 1024;

/**
 * `GET /api/stats/stream`: `event: stats` with the figures at once, then every second. One
 * timer and one read per second for all open streams, each report encoded once; the timer
 * runs only while a stream is open.
 */
export class StatsStream {
  private readonly streams = new Set<PassThrough>();
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(private readonly options: StatsStreamOptions) {}

  /** Opens the stream on `ctx` (auth already checked). */
  async serve(ctx: Context): Promise<void> {
    const first = await this.frame();
    const stream = new PassThrough();
    stream.write(encodeRetry(this.options.retryMs));
    stream.write(first);
    this.streams.add(stream);
    stream.once('close', () => {
      this.streams.delete(stream);
      if (this.streams.size === 0) this.stop();
    });
    this.timer ??= setInterval(() => void this.tick(), this.options.intervalMs ?? 1000).unref();
    ctx.respond = false;
    openEventStream(ctx.req, ctx.res, stream);
  }

  /** Ends every stream and the timer. */
  close(): void {
    for (const stream of this.streams) stream.end();
    this.stop();
  }

  private async tick(): Promise<void> {
    // A read slower than the interval (a Redis outage) is not stacked up.
    if (this.reading) return;
    this.reading = true;
    try {
      const frame = await this.frame();
      for (const stream of this.streams) {
        if (stream.writableLength + stream.readableLength > MAX_UNSENT_BYTES) stream.destroy();
        else stream.write(frame);
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'stats stream: the figures could not be read');
    } finally {
      this.reading = false;
    }
  }

  private async frame(): Promise<Buffer> {
    return encodeUnidentifiedEvent('stats', JSON.stringify(await this.options.read()));
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

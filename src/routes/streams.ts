import type Router from '@koa/router';
import { AppError } from '../errors';
import { assertChannel } from '../event';
import { InvalidCursorError, parseCursor, type Cursor } from '../hub/cursor';
import { koaStreamRequest, serveStream, type StreamServingOptions } from './serve-stream';
import { requestedLastEventId } from './query';

export interface StreamsRouteOptions extends StreamServingOptions {
  readonly maxStreamChannels: number;
}

/**
 * `GET /streams?channel=a&channel=b`: several channels on one stream, each event's id the
 * stream's cursor, resumed from `Last-Event-ID` or `lastEventId` (header wins).
 */
export function streamsRoute(router: Router, options: StreamsRouteOptions): void {
  router.get('/streams', async (ctx) => {
    const names = requestedChannels(ctx.query.channel, options.maxStreamChannels);
    const cursor = requestedCursor(requestedLastEventId(ctx.get('Last-Event-ID'), ctx.query));
    // Entries for channels not on the stream are ignored; a channel without one starts live.
    const channels = names.map((name) => ({ name, resumePoint: cursor?.get(name) ?? null }));
    await serveStream(koaStreamRequest(ctx), options, channels, 'multi');
  });
}

/** The cursor of `Last-Event-ID` or `lastEventId` (header wins); 400 `invalid_last_event_id` if it is not one. */
export function requestedCursor(text: string | undefined): Cursor | null {
  try {
    return parseCursor(text);
  } catch (error) {
    if (error instanceof InvalidCursorError) throw new AppError('invalid_last_event_id', error.message);
    throw error;
  }
}

/** The `channel` parameters of a `/streams` request, once each; 400 when none, invalid or too many. */
export function requestedChannels(given: string | string[] | undefined, maxChannels: number): string[] {
  const names = [...new Set(given === undefined ? [] : Array.isArray(given) ? given : [given])];
  if (names.length === 0) throw new AppError('invalid_channel', 'name at least one channel: /streams?channel=a&channel=b');
  for (const name of names) assertChannel(name);
  if (names.length > maxChannels) {
    throw new AppError('too_many_channels', `a stream may follow at most ${maxChannels} channels (MAX_STREAM_CHANNELS)`);
  }
  return names;
}

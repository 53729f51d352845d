import type Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../errors';
import { assertChannel, parseResumePoint } from '../event';
import type { Hub } from '../hub/hub';
import type { PresenceTracker } from '../presence/tracker';
import { servePublish, type PublishOptions } from './publish';
import { requestedLastEventId, singleQueryValue } from './query';
import { koaStreamRequest, serveStream } from './serve-stream';
import { koaReadRequest } from '../access/read-request';

export interface ChannelRoutesOptions extends PublishOptions {
  readonly hub: Hub;
  readonly presence: PresenceTracker;
  readonly retryMs: number;
}

const MAX_HISTORY_LIMIT = 1000;
const DEFAULT_HISTORY_LIMIT = 100;
const EMPTY_HISTORY = '{"events":[],"more":false}';

/** Stream, publish and history of channels, plus `GET /stream` for the chat channel. */
export function channelRoutes(router: Router, options: ChannelRoutesOptions): void {
  const stream = streamHandler(options);
  router.get('/channels/:channel/stream', (ctx) => stream(ctx, ctx.params.channel ?? ''));
  router.get('/stream', (ctx) => stream(ctx, 'chat'));
  // Publishes without a listed Origin skip Koa (the request listener); CORS requests come here.
  router.post('/channels/:channel/events', (ctx) => {
    ctx.respond = false;
    return servePublish(ctx.req, ctx.res, channelParam(ctx), options);
  });
  router.get('/channels/:channel/events', historyHandler(options));
}

function streamHandler(options: ChannelRoutesOptions): (ctx: Context, channel: string) => Promise<void> {
  return async (ctx, channelName) => {
    const name = assertChannel(channelName);
    const resumePoint = parseResumePoint(requestedLastEventId(ctx.get('Last-Event-ID'), ctx.query));
    await serveStream(koaStreamRequest(ctx), options, [{ name, resumePoint }], 'single');
  };
}

function historyHandler(options: ChannelRoutesOptions): (ctx: Context) => Promise<void> {
  return async (ctx) => {
    const channel = assertChannel(channelParam(ctx));
    await options.access.authorizeRead(koaReadRequest(ctx), [channel]);
    const limitText = singleQueryValue(ctx.query, 'limit', 'invalid_query');
    const afterText = singleQueryValue(ctx.query, 'after', 'invalid_query');
    const limit = limitText === undefined ? DEFAULT_HISTORY_LIMIT : Number(limitText);
    if (limitText !== undefined && (!/^[0-9]{1,4}$/.test(limitText) || limit < 1 || limit > MAX_HISTORY_LIMIT)) {
      throw new AppError('invalid_query', `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`);
    }
    let after: number | null;
    try {
      after = parseResumePoint(afterText);
    } catch {
      throw new AppError('invalid_query', 'after must be a decimal integer >= 0 of at most 16 digits');
    }
    // An ephemeral channel keeps nothing: no broker call (its publishes are never stored).
    if (options.namespaces.policy(channel).ephemeral) {
      ctx.type = 'application/json';
      ctx.body = EMPTY_HISTORY;
      return;
    }
    const page = await options.broker.history(channel, after === null ? { limit } : { after, limit });
    // The stored text of each event is already the item's JSON: no parse, no re-encode.
    ctx.type = 'application/json';
    ctx.body = `{"events":[${page.events.map((event) => event.raw).join(',')}],"more":${String(page.more)}}`;
  };
}

function channelParam(ctx: Context): string {
  const params = (ctx as Context & { params?: Record<string, string | undefined> }).params;
  return params?.channel ?? '';
}


import type Router from '@koa/router';
import type { Context } from 'koa';
import type { PresenceStore } from '../broker/presence-store';
import { AppError } from '../errors';
import { assertChannel } from '../event';
import type { PresenceTracker } from '../presence/tracker';

export interface PresenceRoutesOptions {
  readonly broker: PresenceStore;
  readonly presence: PresenceTracker;
  /** Refuses (401/403 AppError) a reader who may not read the channels; the access check. */
  readonly authorizeRead: (ctx: Context, channels: readonly string[]) => Promise<unknown>;
}

/**
 * `GET /channels/:channel/presence`: the streams open on a tracked channel over every instance
 * and its members (distinct subs, sorted), each with its own stream count. The reader's right to
 * read the channel is checked first; an untracked channel is 404 `presence_disabled`.
 */
export function presenceRoutes(router: Router, options: PresenceRoutesOptions): void {
  router.get('/channels/:channel/presence', async (ctx) => {
    const channel = assertChannel(ctx.params.channel ?? '');
    await options.authorizeRead(ctx, [channel]);
    if (!options.presence.isTracked(channel)) {
      throw new AppError('presence_disabled', `presence is not tracked on "${channel}" (see PRESENCE_CHANNELS)`);
    }
    const snapshot = await options.broker.readPresence(channel);
    const members = [...snapshot.members]
      .sort((a, b) => (a.sub < b.sub ? -1 : a.sub > b.sub ? 1 : 0))
      // Each info is already stored as the JSON of an object: placed as is, not parsed.
      .map((member) => `{"sub":${JSON.stringify(member.sub)},"info":${member.infoJson},"connections":${member.connections}}`);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'application/json';
    ctx.body = `{"channel":${JSON.stringify(channel)},"connections":${snapshot.connections},"members":[${members.join(',')}]}`;
  });
}

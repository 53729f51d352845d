import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { presenceIdentity, type Access, type ReadGrant } from '../access/access';
import { AuthUnavailableError } from '../access/auth-hook';
import { BrokerUnavailableError } from '../errors';
import { answeredAsHead } from '../http/head';
import type { ChannelRequest, Hub } from '../hub/hub';
import type { Framing } from '../hub/stream-channel';
import type { Metrics } from '../metrics';
import type { PresenceTracker } from '../presence/tracker';
import { openEventStream, refuseEventStream } from '../sse/stream';
import { chatSessionName } from './chat-session';

export interface StreamServingOptions {
  readonly hub: Hub;
  readonly metrics: Metrics;
  readonly retryMs: number;
  readonly access: Access;
  readonly presence: PresenceTracker;
}

/**
 * Serves a validated stream request: registers it with the hub and opens the event stream, or,
 * past MAX_CLIENTS or while the broker is unavailable, answers "retry later" (a 200 whose body is
 * only a `retry:` field, since browsers give up for good on any other status).
 */
export async function serveStream(
  ctx: Context,
  options: StreamServingOptions,
  channels: readonly ChannelRequest[],
  framing: Framing,
): Promise<void> {
  if (!options.hub.acceptsClients) {
    refuse(ctx, options);
    return;
  }
  const body = new PassThrough();
  const names = channels.map((channel) => channel.name);
  // The socket, not ctx: the hub holds this for the stream's life, and ctx is not needed by then.
  const socket = ctx.req.socket;
  let grant: ReadGrant;
  try {
    // Authorized at connect time, once; a ticket lookup during an outage refuses like the hub does.
    grant = await options.access.authorizeRead(ctx, names);
    if (answeredAsHead(ctx)) return;
    // Checked again: others may have been admitted while this one waited for its authorization
    // (a hook call, a ticket lookup). connect() counts the stream before its first await.
    if (!options.hub.acceptsClients) {
      refuse(ctx, options);
      return;
    }
    const owner = { sub: grant.sub, issuedAtMs: grant.issuedAtMs, jti: grant.jti };
    await options.hub.connect({ channels, framing, stream: body, abortConnection: () => socket.destroy(), expiresAtMs: grant.expiresAtMs, owner });
  } catch (error) {
    if (!(error instanceof BrokerUnavailableError || error instanceof AuthUnavailableError)) throw error;
    refuse(ctx, options);
    return;
  }
  try {
    // Presence (#11): after connect, so the stream hears its own join; released when it closes.
    // A stream on no tracked channel registers nothing (open() would skip it anyway): no closure
    // and close listener held for its life.
    if (names.some((name) => options.presence.isTracked(name))) {
      body.once('close', options.presence.open(names, presenceIdentity(grant, chatSessionName(ctx))));
    }
    openEventStream(ctx, body);
  } catch (error) {
    // Registered but never served: closing the body releases the hub's slot and any presence.
    body.destroy();
    throw error;
  }
}

function refuse(ctx: Context, options: StreamServingOptions): void {
  options.metrics.clientsRefused.inc();
  refuseEventStream(ctx, options.retryMs);
}

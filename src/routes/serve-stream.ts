import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { presenceIdentity, type Access, type ReadGrant } from '../access/access';
import { AuthUnavailableError } from '../access/auth-hook';
import { koaReadRequest, type ReadRequest } from '../access/read-request';
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
 * A stream request as serveStream takes it: from a Koa route (koaStreamRequest), or straight
 * from Node's request for a channel's stream that needs nothing of Koa (routes/channel-stream.ts).
 */
export interface StreamRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** What the read's authorization looks at. */
  readonly read: ReadRequest;
  /** The chat session's name, for presence on `chat` (null without a session). */
  chatName(): string | null;
  /** Called before serveStream writes the response itself (Koa must leave it alone from then on). */
  takeOver(): void;
}

export function koaStreamRequest(ctx: Context): StreamRequest {
  return {
    req: ctx.req,
    res: ctx.res,
    read: koaReadRequest(ctx),
    chatName: () => chatSessionName(ctx),
    takeOver: () => {
      ctx.respond = false;
    },
  };
}

/**
 * Serves a validated stream request: registers it with the hub and opens the event stream, or,
 * past MAX_CLIENTS or while the broker is unavailable, answers "retry later" (a 200 whose body is
 * only a `retry:` field, since browsers give up for good on any other status). A refused read
 * rejects with its AppError before anything is written.
 */
export async function serveStream(
  request: StreamRequest,
  options: StreamServingOptions,
  channels: readonly ChannelRequest[],
  framing: Framing,
): Promise<void> {
  if (!options.hub.acceptsClients) {
    refuse(request, options);
    return;
  }
  const { req, res } = request;
  const body = new PassThrough();
  const names = channels.map((channel) => channel.name);
  // The socket, not the request: the hub holds this for the stream's life.
  const socket = req.socket;
  let grant: ReadGrant;
  try {
    // Authorized at connect time, once; a ticket lookup during an outage refuses like the hub does.
    grant = await options.access.authorizeRead(request.read, names);
    if (req.method === 'HEAD') {
      request.takeOver();
      answeredAsHead(req, res);
      return;
    }
    // Checked again: others may have been admitted while this one waited for its authorization
    // (a hook call, a ticket lookup). connect() counts the stream before its first await.
    if (!options.hub.acceptsClients) {
      refuse(request, options);
      return;
    }
    const owner = { sub: grant.sub, issuedAtMs: grant.issuedAtMs, jti: grant.jti };
    await options.hub.connect({ channels, framing, stream: body, abortConnection: () => socket.destroy(), expiresAtMs: grant.expiresAtMs, owner });
    try {
      // Revoked while the stream was being registered: that revocation found nothing of it to end.
      options.access.assertNotRevoked(request.read, grant);
    } catch (error) {
      body.destroy();
      throw error;
    }
  } catch (error) {
    if (!(error instanceof BrokerUnavailableError || error instanceof AuthUnavailableError)) throw error;
    refuse(request, options);
    return;
  }
  request.takeOver();
  try {
    // Presence (#11): after connect, so the stream hears its own join; released when it closes.
    // A stream on no tracked channel registers nothing (open() would skip it anyway): no closure
    // and close listener held for its life.
    if (names.some((name) => options.presence.isTracked(name))) {
      body.once('close', options.presence.open(names, presenceIdentity(grant, request.chatName())));
    }
    openEventStream(req, res, body);
  } catch (error) {
    // Registered but never served: closing the body releases the hub's slot and any presence,
    // and the connection goes (the response is ours now: nothing else would answer it).
    body.destroy();
    socket.destroy();
    throw error;
  }
}

function refuse(request: StreamRequest, options: StreamServingOptions): void {
  options.metrics.clientsRefused.inc();
  request.takeOver();
  refuseEventStream(request.res, options.retryMs);
}

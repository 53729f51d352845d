import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { Access } from '../access/access';
import { BrokerUnavailableError } from '../errors';
import type { ChannelRequest, Hub } from '../hub/hub';
import type { Metrics } from '../metrics';
import { openEventStream, refuseEventStream } from '../sse/stream';

export interface StreamServingOptions {
  readonly hub: Hub;
  readonly metrics: Metrics;
  readonly retryMs: number;
  readonly access: Access;
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
  multi: boolean,
): Promise<void> {
  if (!options.hub.acceptsClients) {
    refuse(ctx, options);
    return;
  }
  const body = new PassThrough();
  try {
    // Authorized at connect time, once; a ticket lookup during an outage refuses like the hub does.
    const grant = await options.access.authorizeRead(ctx, channels.map((channel) => channel.name));
    await options.hub.connect({ channels, multi, stream: body, abortConnection: () => ctx.req.socket.destroy(), expiresAtMs: grant.expiresAtMs });
  } catch (error) {
    if (!(error instanceof BrokerUnavailableError)) throw error;
    refuse(ctx, options);
    return;
  }
  openEventStream(ctx, body);
}

function refuse(ctx: Context, options: StreamServingOptions): void {
  options.metrics.clientsRefused.inc();
  refuseEventStream(ctx, options.retryMs);
}

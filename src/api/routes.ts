import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { PatternError, PatternList } from '../access/patterns';
import { isValidIdempotencyKey } from '../http/idempotency-key';
import { AppError, describeError, errorBody, type ErrorBody } from '../errors';
import { assertChannel, isValidChannel } from '../event';
import { readBody } from '../http/read-body';
import type { Namespaces } from '../namespaces';
import type { PublishInput } from '../publish-body';
import { checkContract } from '../routes/publish';
import { singleQueryValue } from '../routes/query';
import type { StatsStream } from '../stats/stats-stream';
import { requireAdmin } from './admin-auth';
import type { ControlPlane } from './control-plane';
import { parseBroadcast, parseDisconnect, parseRevoke } from './orders';

export interface ApiRoutesOptions {
  readonly controlPlane: ControlPlane;
  /** Serves `GET /api/stats/stream`; the caller closes it at shutdown. */
  readonly statsStream: StatsStream;
  /** ADMIN_TOKEN; undefined = every route answers 404. */
  readonly adminToken: string | undefined;
  /** MAX_EVENT_BYTES: the largest body, as for publishing. */
  readonly maxEventBytes: number;
  readonly logger: Logger;
  /** Each channel's contract, body limit, history and whether it is ephemeral: a broadcast follows them. */
  readonly namespaces: Namespaces;
  /** Default Date.now. */
  readonly now?: () => number;
}

const MAX_CHANNELS_LIMIT = 1000;
const DEFAULT_CHANNELS_LIMIT = 100;

/** One entry of a broadcast's results, in the order the channels were given. */
type BroadcastResult = { channel: string; id: string | null } | { channel: string; error: ErrorBody['error'] };

/**
 * The server API (API.md, "The server API: `/api/*`") on `router`, each route behind
 * requireAdmin, acting through `controlPlane`. Bodies are JSON with publishing's limits and
 * errors.
 */
export function apiRoutes(router: Router, options: ApiRoutesOptions): void {
  // Without ADMIN_TOKEN the routes do not exist at all: a 404 for every method, with no `Allow`
  // header or 405 that would tell what is there.
  if (options.adminToken === undefined) return;
  const { controlPlane, statsStream } = options;
  const now = options.now ?? Date.now;
  const admin = requireAdmin(options.adminToken);
  const jsonBody = async (ctx: Context): Promise<{ value: unknown; text: string }> => {
    const body = await readBody(ctx.req, ctx.res, ['json'], options.maxEventBytes);
    if (body.kind !== 'json') throw new AppError('unsupported_media_type', 'Content-Type must be application/json');
    return body;
  };

  router.post('/api/broadcast', admin, async (ctx) => {
    const idempotencyKey = ctx.get('Idempotency-Key') || undefined;
    if (idempotencyKey !== undefined && !isValidIdempotencyKey(idempotencyKey)) {
      throw new AppError('invalid_idempotency_key', 'Idempotency-Key must be 1-128 printable ASCII characters');
    }
    const body = await jsonBody(ctx);
    const order = parseBroadcast(body.value, body.text);
    // A channel's maxEventBytes bounds the event, as the body of a publish to it would be, not
    // this body with its list of up to 1,000 channels.
    const eventBytes = Buffer.byteLength(`{"event":${JSON.stringify(order.input.event)},"data":${order.input.dataJson}}`);
    const publish = (channel: string): Promise<BroadcastResult> =>
      publishOne(controlPlane, options.namespaces, channel, { input: order.input, body: body.value, bytes: eventBytes }, idempotencyKey, options.logger);
    const results = await Promise.all(order.channels.map(publish));
    ctx.status = 201;
    ctx.body = { results };
  });

  router.post('/api/disconnect', admin, async (ctx) => {
    await controlPlane.disconnect(parseDisconnect((await jsonBody(ctx)).value));
    ctx.body = { ok: true };
  });

  router.post('/api/revoke', admin, async (ctx) => {
    await controlPlane.revoke(parseRevoke((await jsonBody(ctx)).value, now()));
    ctx.body = { ok: true };
  });

  router.get('/api/channels', admin, async (ctx) => {
    const patterns = channelPattern(singleQueryValue(ctx.query, 'pattern', 'invalid_query') ?? '**');
    const limit = channelsLimit(singleQueryValue(ctx.query, 'limit', 'invalid_query'));
    ctx.body = await controlPlane.channels((channel) => patterns.matches(channel), limit);
  });

  router.get('/api/stats', admin, async (ctx) => {
    ctx.body = await controlPlane.stats();
  });

  router.get('/api/stats/stream', admin, (ctx) => statsStream.serve(ctx));

  router.delete('/api/channels/:channel/history', admin, async (ctx) => {
    await controlPlane.deleteHistory(assertChannel(ctx.params.channel ?? ''));
    ctx.status = 204;
  });
}

/** One channel of a broadcast: its id, or its error (a broadcast never fails as a whole for one channel). */
async function publishOne(
  controlPlane: ControlPlane,
  namespaces: Namespaces,
  channel: string,
  event: { readonly input: PublishInput; readonly body: unknown; readonly bytes: number },
  idempotencyKey: string | undefined,
  logger: Logger,
): Promise<BroadcastResult> {
  if (!isValidChannel(channel)) return { channel, error: { code: 'invalid_channel', message: 'not a valid channel name' } };
  const { input } = event;
  try {
    // As a publish to this channel would be checked: its namespace's body limit and contract.
    const policy = namespaces.policy(channel);
    if (event.bytes > policy.maxEventBytes) throw new AppError('payload_too_large', `the body is over ${policy.maxEventBytes} bytes, this channel's limit`);
    checkContract(policy, input, event.body);
    if (policy.ephemeral) {
      await controlPlane.publishEphemeral(channel, input.event, input.dataJson);
      return { channel, id: null };
    }
    // The admin's keys are its own: a publisher reusing one cannot collide with a broadcast.
    const result = await controlPlane.publish({ channel, ...input, idempotencyKey, idempotencyScope: 'admin', historySize: policy.historySize, historyTtlS: policy.historyTtlS });
    return { channel, id: String(result.id) };
  } catch (error) {
    const described = describeError(error);
    if (described.status >= 500 && described.code === 'internal_error') logger.error({ err: error, channel }, 'broadcast: a publish failed');
    // With its details (a schema's invalid_data), as a publish answers.
    return { channel, error: errorBody(described).error };
  }
}

function channelPattern(source: string): PatternList {
  try {
    return PatternList.compile([source]);
  } catch (error) {
    if (error instanceof PatternError) throw new AppError('invalid_query', `pattern: ${error.message}`);
    throw error;
  }
}

function channelsLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CHANNELS_LIMIT;
  const limit = Number(text);
  if (!/^[0-9]{1,4}$/.test(text) || limit < 1 || limit > MAX_CHANNELS_LIMIT) {
    throw new AppError('invalid_query', `limit must be an integer from 1 to ${MAX_CHANNELS_LIMIT}`);
  }
  return limit;
}

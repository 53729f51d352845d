import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Access } from '../access/access';
import { NodeHeaders } from '../access/read-request';
import type { EventBroker } from '../broker/broker';
import { AppError } from '../errors';
import { answerError, sendJson } from '../http/answer';
import { assertChannel } from '../event';
import { isValidIdempotencyKey } from '../http/idempotency-key';
import { readBody } from '../http/read-body';
import type { Metrics } from '../metrics';
import { validateEvent, type ChannelPolicy, type Namespaces } from '../namespaces';
import { parsePublishBody, type PublishInput } from '../publish-body';

export interface PublishOptions {
  readonly broker: EventBroker;
  readonly metrics: Metrics;
  readonly access: Access;
  /** Each channel's body limit, contract, history and whether it is ephemeral. */
  readonly namespaces: Namespaces;
  readonly logger: Logger;
}

/**
 * `POST /channels/:channel/events` on the bare request and response, answered in full here,
 * errors included (`{"error":{"code","message"}}`, as the Koa error boundary answers them). The
 * request listener calls it without Koa for most publishes, and the Koa route calls it for the
 * rest (CORS requests), so both are one code path.
 */
export async function servePublish(req: IncomingMessage, res: ServerResponse, channelParam: string, options: PublishOptions): Promise<void> {
  try {
    const channel = assertChannel(channelParam);
    const idempotencyScope = await options.access.authorizePublish(new NodeHeaders(req, res), channel);
    const idempotencyKey = req.headers['idempotency-key'];
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !isValidIdempotencyKey(idempotencyKey))) {
      throw new AppError('invalid_idempotency_key', 'Idempotency-Key must be 1-128 printable ASCII characters');
    }
    const policy = options.namespaces.policy(channel);
    const body = await readBody(req, res, ['json'], policy.maxEventBytes);
    const input = parsePublishBody(body.value, body.kind === 'json' ? body.text : undefined);
    checkContract(policy, input, body.value);
    const startedAt = performance.now();
    if (policy.ephemeral) {
      // Nothing is kept, so an Idempotency-Key has nothing to be compared with: ignored.
      await options.broker.publishEphemeral(channel, input.event, input.dataJson);
      options.metrics.publishDuration.observe((performance.now() - startedAt) / 1000);
      options.metrics.eventsPublished.inc();
      sendJson(res, 202, `{"channel":"${channel}","event":${JSON.stringify(input.event)}}`);
      return;
    }
    const result = await options.broker.publish({ channel, ...input, idempotencyKey, idempotencyScope, historySize: policy.historySize, historyTtlS: policy.historyTtlS });
    options.metrics.publishDuration.observe((performance.now() - startedAt) / 1000);
    if (!result.duplicate) options.metrics.eventsPublished.inc();
    // The channel matched CHANNEL_PATTERN: nothing in it to escape.
    sendJson(res, result.duplicate ? 200 : 201, `{"id":"${result.id}","channel":"${channel}","event":${JSON.stringify(result.event)}}`);
  } catch (error) {
    answerError(req, res, error, options.logger);
  }
}

/**
 * Throws 400 `unknown_event` / `invalid_data` (with its details) when the channel's namespace
 * refuses the event; `body` is the parsed publish body (parsePublishBody accepted it).
 */
export function checkContract(policy: ChannelPolicy, input: PublishInput, body: unknown): void {
  const rejection = validateEvent(policy, input.event, (body as { data: unknown }).data);
  if (rejection !== null) throw AppError.withDetails(rejection.code, rejection.message, rejection.details);
}

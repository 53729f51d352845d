import { AppError } from './errors';
import { DEFAULT_EVENT_NAME, EVENT_NAME_PATTERN, isPublishableEventName } from './event';

/** A validated publish: the event name and the data as compact JSON. */
export interface PublishInput {
  readonly event: string;
  readonly dataJson: string;
}

const ALLOWED_KEYS = new Set(['event', 'data']);

/**
 * Validates the JSON body of a publish: an object with `data` (any JSON, null included) and an
 * optional publishable `event` name. Throws 400 `invalid_event` otherwise.
 */
export function parsePublishBody(body: unknown): PublishInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidEvent('the body must be a JSON object {"event"?: string, "data": any}');
  }
  const fields = body as Record<string, unknown>;
  const unknownKey = Object.keys(fields).find((key) => !ALLOWED_KEYS.has(key));
  if (unknownKey !== undefined) throw invalidEvent(`unknown field "${unknownKey}"; only "event" and "data" are allowed`);
  if (!Object.hasOwn(fields, 'data')) throw invalidEvent('"data" is required (null, 0, false and "" are accepted)');
  const event = fields.event === undefined ? DEFAULT_EVENT_NAME : fields.event;
  if (typeof event !== 'string' || !EVENT_NAME_PATTERN.test(event)) {
    throw invalidEvent(`"event" must match ${EVENT_NAME_PATTERN.source}`);
  }
  if (!isPublishableEventName(event)) throw invalidEvent('event names starting with "hub." are reserved for the server');
  return { event, dataJson: compactJson(fields.data) };
}

/** JSON.parse accepts nesting that JSON.stringify cannot recurse through: refuse it, not 500. */
function compactJson(data: unknown): string {
  try {
    return JSON.stringify(data);
  } catch (error) {
    if (error instanceof RangeError) throw invalidEvent('"data" is nested too deeply');
    throw error;
  }
}

function invalidEvent(message: string): AppError {
  return new AppError(400, 'invalid_event', message);
}

import { AppError } from './errors';
import { DEFAULT_EVENT_NAME, EVENT_NAME_PATTERN, isPublishableEventName } from './event';
import { compactJsonText, memberTexts } from './json-text';

/** A validated publish: the event name and the data as compact JSON. */
export interface PublishInput {
  readonly event: string;
  readonly dataJson: string;
}

const ALLOWED_KEYS = new Set(['event', 'data']);
/** Deeper data is refused: consumers' JSON encoders recurse and would fail on it. */
export const MAX_DATA_DEPTH = 512;

/**
 * Validates the JSON body of a publish: an object with `data` (any JSON, null included) and an
 * optional publishable `event` name. Throws 400 `invalid_event` otherwise. The data is taken
 * from `bodyText` (the body as sent) so it reaches subscribers exactly as published, numbers
 * beyond double precision included; without it, `body` is serialized.
 */
export function parsePublishBody(body: unknown, bodyText?: string): PublishInput {
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
  const data = memberTexts(bodyText ?? serialize(body)).get('data');
  if (data === undefined || data.depth > MAX_DATA_DEPTH) throw tooDeep();
  return { event, dataJson: compactJsonText(data.text) };
}

/** JSON.parse accepts nesting that JSON.stringify cannot recurse through: refuse it, not 500. */
function serialize(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch (error) {
    if (error instanceof RangeError) throw tooDeep();
    throw error;
  }
}

function tooDeep(): AppError {
  return invalidEvent(`"data" is nested too deeply (at most ${MAX_DATA_DEPTH} levels)`);
}

function invalidEvent(message: string): AppError {
  return new AppError('invalid_event', message);
}

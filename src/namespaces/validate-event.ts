import type { ErrorObject } from 'ajv';
import type { ChannelPolicy } from './namespaces';

/** One reason the data was refused: `path` is a JSON pointer into the data (`""` = the data itself). */
export interface DataProblem {
  readonly path: string;
  readonly message: string;
}

/** Why a publish is refused; the route answers 400 with this code, message and details. */
export interface EventRejection {
  readonly code: 'invalid_data' | 'unknown_event';
  readonly message: string;
  /** For `invalid_data`: at most MAX_DETAILS problems. */
  readonly details?: readonly DataProblem[];
}

/** The most problems one refusal lists (API.md, "Publishing"). */
export const MAX_DETAILS = 10;

function problemOf(error: ErrorObject): DataProblem {
  const params = error.params as Record<string, unknown>;
  // Point at the offending property itself where ajv reports it on the parent.
  const property = error.keyword === 'required' ? params.missingProperty : error.keyword === 'additionalProperties' ? params.additionalProperty : undefined;
  const path = typeof property === 'string' ? `${error.instancePath}/${property.replace(/~/g, '~0').replace(/\//g, '~1')}` : error.instancePath;
  return { path, message: error.message ?? `fails ${error.keyword}` };
}

/**
 * Checks one publish against the channel's contract, before anything is stored. `data` is the
 * parsed data. Returns null when it may be published, else the rejection: `unknown_event`
 * when the namespace is strict and does not list `event` (the message names the allowed ones),
 * `invalid_data` when the event's schema refuses `data` (up to MAX_DETAILS details).
 * Cost: one map lookup without a contract; one compiled validator run with one.
 */
export function validateEvent(policy: ChannelPolicy, event: string, data: unknown): EventRejection | null {
  const contract = policy.events.get(event);
  if (contract === undefined) {
    if (!policy.strict) return null;
    const allowed = [...policy.events.keys()];
    const list = allowed.length === 0 ? 'none are' : `allowed: ${allowed.join(', ')}`;
    return { code: 'unknown_event', message: `event "${event}" is not listed for this channel (${list})` };
  }
  if (contract.validate(data)) return null;
  const details = (contract.validate.errors ?? []).slice(0, MAX_DETAILS).map(problemOf);
  const first = details[0];
  const where = first === undefined ? '' : `: ${first.path === '' ? 'data' : first.path} ${first.message}`;
  return { code: 'invalid_data', message: `data does not match the schema of event "${event}"${where}`, details };
}

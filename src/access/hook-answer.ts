import { PatternError, PatternList } from './patterns';
import { MAX_GRANT_PATTERNS, MAX_INFO_BYTES } from './tokens';

/** What a hook's 200 answer grants: read exactly like an access token's sub, info and subscribe. */
export interface HookGrant {
  readonly sub: string | null;
  readonly info: Record<string, unknown> | null;
  readonly subscribe: PatternList;
  /** The answer's `expiresAt` in ms since the epoch; null when it gave none. */
  readonly expiresAtMs: number | null;
}

/** The hook's 200 answer is not what API.md describes; the message says why (no values echoed). */
export class MalformedHookAnswerError extends Error {
  override name = 'MalformedHookAnswerError';
}

/**
 * Reads a hook's 200 body `{"sub"?, "info"?, "subscribe": [patterns], "expiresAt"?}`. A bad
 * pattern, a `sub` that is not a string, an `info` that is not an object of at most 1 KB or an
 * `expiresAt` that is not a time throws MalformedHookAnswerError: a failing hook, not a refusal.
 */
export function parseHookAnswer(text: string): HookGrant {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new MalformedHookAnswerError('the answer is not JSON');
  }
  if (!isPlainObject(answer)) throw new MalformedHookAnswerError('the answer is not a JSON object');
  const { sub, info, subscribe, expiresAt } = answer;
  if (sub !== undefined && sub !== null && typeof sub !== 'string') throw new MalformedHookAnswerError('"sub" is not a string');
  return { sub: typeof sub === 'string' ? sub : null, info: infoObject(info), subscribe: patterns(subscribe), expiresAtMs: expiry(expiresAt) };
}

function patterns(value: unknown): PatternList {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new MalformedHookAnswerError('"subscribe" is not a list of channel patterns');
  }
  if (value.length > MAX_GRANT_PATTERNS) throw new MalformedHookAnswerError(`"subscribe" has more than ${MAX_GRANT_PATTERNS} patterns`);
  try {
    return PatternList.compile(value);
  } catch (error) {
    if (error instanceof PatternError) throw new MalformedHookAnswerError('"subscribe" holds an invalid channel pattern');
    throw error;
  }
}

function infoObject(value: unknown): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) throw new MalformedHookAnswerError('"info" is not an object');
  if (Buffer.byteLength(JSON.stringify(value), 'utf8') > MAX_INFO_BYTES) throw new MalformedHookAnswerError(`"info" is larger than ${MAX_INFO_BYTES} bytes`);
  return value;
}

function expiry(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new MalformedHookAnswerError('"expiresAt" is not an ISO time');
  return ms;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

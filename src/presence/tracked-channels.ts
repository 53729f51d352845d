import { CHANNEL_PATTERN } from '../event';

/** The channel whose subscribers are always tracked: the chat example. */
export const ALWAYS_TRACKED_CHANNEL = 'chat';

const SEGMENT = /^[A-Za-z0-9_:-]+$/;

/**
 * Why `pattern` is malformed (API.md, "Names and patterns"), or null when it is well formed.
 * Kept here until src/access/patterns.ts lands; `trackedChannels` is the one place to repoint.
 */
export function patternProblem(pattern: string): string | null {
  if (pattern === '**') return null;
  const segments = pattern.split('.');
  for (const [index, segment] of segments.entries()) {
    if (segment === '') return 'a segment is empty';
    if (segment === '**') {
      if (index !== segments.length - 1) return '"**" must be the last segment';
      continue;
    }
    if (segment === '*' || segment === '{sub}') continue;
    if (/[*{}]/.test(segment)) return `segment "${segment}" mixes a wildcard or placeholder with other characters`;
    if (!SEGMENT.test(segment)) return `segment "${segment}" holds a character a channel name cannot`;
  }
  return null;
}

function matches(segments: readonly string[], channel: string): boolean {
  if (segments.length === 1 && segments[0] === '**') return CHANNEL_PATTERN.test(channel);
  const parts = channel.split('.');
  for (const [index, segment] of segments.entries()) {
    if (segment === '**') return parts.length > index;
    const part = parts[index];
    // `{sub}` never matches: the environment's lists have no token.
    if (part === undefined || segment === '{sub}') return false;
    if (segment !== '*' && segment !== part) return false;
  }
  return parts.length === segments.length;
}

/**
 * Compiles PRESENCE_CHANNELS (validated by readConfig) once into a predicate: true for a channel
 * whose subscribers are tracked. `chat` is always tracked.
 */
export function trackedChannels(patterns: readonly string[]): (channel: string) => boolean {
  const compiled = patterns.map((pattern) => pattern.split('.'));
  return (channel) => channel === ALWAYS_TRACKED_CHANNEL || compiled.some((segments) => matches(segments, channel));
}

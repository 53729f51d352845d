/**
 * Channel patterns (API.md, "Names and patterns"): segments split on `.`; a segment is a literal,
 * `*` (exactly one whole segment) or `{sub}` (one whole segment equal to the token's `sub`);
 * `**` as the last segment matches one or more segments; `**` alone matches every channel.
 * Patterns are anchored. Pure: no I/O, no state beyond the compiled form.
 */

type Segment = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'any' } | { readonly kind: 'sub' };

/** One compiled pattern; match it with `matchesChannel`. */
export interface ChannelPattern {
  readonly source: string;
  /** The segments before a trailing `**` (all of them when there is none). */
  readonly segments: readonly Segment[];
  /** True when the pattern ends in `**`: one or more further segments of any content. */
  readonly openEnded: boolean;
}

/** A pattern that breaks the rules; the message says which rule. */
export class PatternError extends Error {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`${JSON.stringify(pattern)} is not a valid channel pattern: ${reason}`);
    this.name = 'PatternError';
  }
}

// The characters a channel name may hold, minus `.`, which separates segments.
const LITERAL_SEGMENT = /^[A-Za-z0-9_:-]+$/;

function compileSegment(pattern: string, text: string): Segment {
  if (text === '') throw new PatternError(pattern, 'a segment is empty');
  if (text === '*') return { kind: 'any' };
  if (text === '{sub}') return { kind: 'sub' };
  if (text.includes('*')) throw new PatternError(pattern, `"${text}" mixes * with other characters`);
  if (text.includes('{') || text.includes('}')) {
    throw new PatternError(pattern, /^\{[^{}]*\}$/.test(text) ? `${text} is not a known placeholder (only {sub})` : `"${text}" mixes a placeholder with other characters`);
  }
  if (!LITERAL_SEGMENT.test(text)) throw new PatternError(pattern, `"${text}" holds a character a channel name cannot`);
  return { kind: 'literal', text };
}

/** Compiles one pattern. Throws PatternError when it is malformed. */
export function compilePattern(source: string): ChannelPattern {
  const parts = source.split('.');
  const openEnded = parts[parts.length - 1] === '**';
  if (openEnded) parts.pop();
  if (parts.includes('**')) throw new PatternError(source, '** may only be the last segment');
  return { source, segments: parts.map((part) => compileSegment(source, part)), openEnded };
}

/**
 * True when `channel` (a valid channel name) matches `pattern`. `sub` is the token's subject,
 * or null without a token, in which case `{sub}` matches nothing.
 */
export function matchesChannel(pattern: ChannelPattern, channelSegments: readonly string[], sub: string | null): boolean {
  const { segments } = pattern;
  if (pattern.openEnded ? channelSegments.length <= segments.length : channelSegments.length !== segments.length) return false;
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] as Segment;
    const part = channelSegments[index];
    if (segment.kind === 'literal' ? part !== segment.text : segment.kind === 'sub' && part !== sub) return false;
  }
  return true;
}

/**
 * A compiled list of patterns (a grant, or an environment list). An empty list matches nothing.
 * Compile it once (per token or per configuration) and match as often as needed.
 */
export class PatternList {
  static readonly EMPTY = new PatternList([]);

  private constructor(readonly patterns: readonly ChannelPattern[]) {}

  /** Compiles every pattern. Throws PatternError on the first malformed one. */
  static compile(sources: readonly string[]): PatternList {
    return sources.length === 0 ? PatternList.EMPTY : new PatternList(sources.map(compilePattern));
  }

  get sources(): string[] {
    return this.patterns.map((pattern) => pattern.source);
  }

  /** True when any pattern matches `channel` for a token with subject `sub` (null: no token). */
  matches(channel: string, sub: string | null = null): boolean {
    if (this.patterns.length === 0) return false;
    const segments = channel.split('.');
    return this.patterns.some((pattern) => matchesChannel(pattern, segments, sub));
  }
}

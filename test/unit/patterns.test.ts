import fc from 'fast-check';
import { compilePattern, PatternError, PatternList } from '../../src/access/patterns';
import { isValidChannel } from '../../src/event';

function matches(pattern: string, channel: string, sub: string | null = null): boolean {
  return PatternList.compile([pattern]).matches(channel, sub);
}

describe('channel patterns', () => {
  it.each<[pattern: string, channel: string, sub: string | null, expected: boolean]>([
    // API.md's own examples
    ['orders.*', 'orders.eu', null, true],
    ['orders.*', 'orders', null, false],
    ['orders.*', 'orders.eu.x', null, false],
    ['room.**', 'room.a', null, true],
    ['room.**', 'room.a.b', null, true],
    ['room.**', 'room', null, false],
    ['user.{sub}.*', 'user.42.inbox', '42', true],
    ['user.{sub}.*', 'user.43.inbox', '42', false],
    ['user.{sub}.*', 'user.42.inbox', null, false],
    ['**', 'anything', null, true],
    ['**', 'a.b.c.d', null, true],
    // anchored at both ends, literal segments compared whole
    ['chat', 'chat', null, true],
    ['chat', 'chatroom', null, false],
    ['chat', 'my-chat', null, false],
    ['orders.eu', 'orders.eu.x', null, false],
    ['orders.eu', 'x.orders.eu', null, false],
    ['Orders', 'orders', null, false],
    ['*', 'a', null, true],
    ['*', 'a.b', null, false],
    ['*.b', 'a.b', null, true],
    ['a.*.c', 'a.b.c', null, true],
    ['a.*.c', 'a.c', null, false],
    ['{sub}', 'alice', 'alice', true],
    ['{sub}', 'alice', 'alic', false],
    // a sub holding a dot can never stand for one segment, nor for two
    ['user.{sub}', 'user.a.b', 'a.b', false],
    ['user.{sub}.**', 'user.a.b', 'a', true],
    ['{sub}.**', 'a.b', '', false],
    ['a:b_c-d.x', 'a:b_c-d.x', null, true],
  ])('%s against %s (sub %s) → %s', (pattern, channel, sub, expected) => {
    expect(matches(pattern, channel, sub)).toBe(expected);
  });

  it('matches nothing with an empty list', () => {
    expect(PatternList.compile([]).matches('chat')).toBe(false);
    expect(PatternList.EMPTY.matches('a.b', 'a')).toBe(false);
  });

  it('matches when any pattern of a list matches', () => {
    const list = PatternList.compile(['chat', 'news.*', 'user.{sub}.**']);
    expect(['chat', 'news.eu', 'user.7.inbox'].map((channel) => list.matches(channel, '7'))).toEqual([true, true, true]);
    expect(['chats', 'news', 'user.8.inbox'].map((channel) => list.matches(channel, '7'))).toEqual([false, false, false]);
  });

  it.each([
    ['', 'a segment is empty'],
    ['a..b', 'a segment is empty'],
    ['.a', 'a segment is empty'],
    ['a.', 'a segment is empty'],
    ['e*', 'mixes *'],
    ['*e', 'mixes *'],
    ['***', 'mixes *'],
    ['a.**.b', '** may only be the last segment'],
    ['**.**', '** may only be the last segment'],
    ['{sub}x', 'mixes a placeholder'],
    ['x{sub}', 'mixes a placeholder'],
    ['{sub', 'mixes a placeholder'],
    ['{user}', 'not a known placeholder'],
    ['{}', 'not a known placeholder'],
    ['a b', 'a character a channel name cannot'],
    ['a/b', 'a character a channel name cannot'],
    ['ä', 'a character a channel name cannot'],
    ['a\nb', 'a character a channel name cannot'],
  ])('refuses the malformed pattern %j (%s)', (pattern, reason) => {
    expect(() => compilePattern(pattern)).toThrow(PatternError);
    expect(() => compilePattern(pattern)).toThrow(reason);
  });
});

const SEGMENT = fc.stringMatching(/^[A-Za-z0-9_:-]{1,6}$/);
const CHANNEL_SEGMENTS = fc.array(SEGMENT, { minLength: 1, maxLength: 8 }).filter((segments) => isValidChannel(segments.join('.')));
const PATTERN_SEGMENT = fc.oneof(SEGMENT, fc.constant('*'), fc.constant('{sub}'));
const PATTERN = fc.record({
  segments: fc.array(PATTERN_SEGMENT, { minLength: 0, maxLength: 6 }),
  openEnded: fc.boolean(),
}).filter((pattern) => pattern.segments.length > 0 || pattern.openEnded);

function source(pattern: { segments: string[]; openEnded: boolean }): string {
  return [...pattern.segments, ...(pattern.openEnded ? ['**'] : [])].join('.');
}

describe('channel pattern properties', () => {
  it('a pattern never matches a channel with more or fewer segments than it allows', () => {
    fc.assert(
      fc.property(PATTERN, CHANNEL_SEGMENTS, fc.option(SEGMENT, { nil: null }), (pattern, channelSegments, sub) => {
        const matched = matches(source(pattern), channelSegments.join('.'), sub);
        const n = pattern.segments.length;
        const allowed = pattern.openEnded ? channelSegments.length > n : channelSegments.length === n;
        if (!allowed) expect(matched).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('a channel matches a pattern built from it segment by segment (literal, * or {sub})', () => {
    fc.assert(
      fc.property(CHANNEL_SEGMENTS, fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 7 }), (segments, kinds, cut) => {
        const sub = segments[0]!;
        const parts = segments.map((segment, index) => (kinds[index] === 1 ? '*' : kinds[index] === 2 && segment === sub ? '{sub}' : segment));
        expect(matches(parts.join('.'), segments.join('.'), sub)).toBe(true);
        // Keeping a prefix and ending in ** matches too, as long as ** still covers one segment or more.
        const keep = Math.min(cut, segments.length - 1);
        expect(matches([...parts.slice(0, keep), '**'].join('.'), segments.join('.'), sub)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('a literal segment matches only that exact segment', () => {
    fc.assert(
      fc.property(CHANNEL_SEGMENTS, CHANNEL_SEGMENTS, (a, b) => {
        fc.pre(a.length === b.length);
        expect(matches(a.join('.'), b.join('.'))).toBe(a.join('.') === b.join('.'));
      }),
      { numRuns: 1000 },
    );
  });

  it('{sub} never matches without a sub, and matches only the token own sub', () => {
    fc.assert(
      fc.property(CHANNEL_SEGMENTS, SEGMENT, (segments, sub) => {
        const pattern = ['{sub}', ...segments.slice(1)].join('.');
        expect(matches(pattern, segments.join('.'), null)).toBe(false);
        expect(matches(pattern, segments.join('.'), sub)).toBe(segments[0] === sub);
      }),
      { numRuns: 1000 },
    );
  });

  it('compiling never throws anything but PatternError, and every accepted pattern holds only channel characters, * and {sub}', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        try {
          compilePattern(text);
        } catch (error) {
          expect(error).toBeInstanceOf(PatternError);
          return;
        }
        expect(text.split('.').every((segment) => /^([A-Za-z0-9_:-]+|\*|\*\*|\{sub\})$/.test(segment))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

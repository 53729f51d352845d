import { AppError } from '../../src/errors';
import {
  CHANNEL_PATTERN,
  DEFAULT_EVENT_NAME,
  EVENT_NAME_PATTERN,
  assertChannel,
  isPublishableEventName,
  isValidChannel,
  parseResumePoint,
  parseStoredEvent,
  serializeStoredEvent,
} from '../../src/event';

function errorOf(action: () => unknown): AppError {
  try {
    action();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError, nothing was thrown');
}

describe('channel names', () => {
  it('follow the documented pattern', () => {
    expect(CHANNEL_PATTERN.source).toBe('^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$');
  });

  it.each(['chat', 'a', '0', '9lives', 'room_1.sub:topic-x', 'A'.repeat(64), 'x:y'])('accepts %j', (name) => {
    expect(isValidChannel(name)).toBe(true);
    expect(assertChannel(name)).toBe(name);
  });

  it.each([
    ['empty', ''],
    ['65 characters', 'a'.repeat(65)],
    ['a leading underscore', '_chat'],
    ['a leading dot', '.chat'],
    ['a leading dash', '-chat'],
    ['a leading colon', ':chat'],
    ['a newline', 'chat\nid: 1'],
    ['a trailing newline', 'chat\n'],
    ['a carriage return', 'chat\r'],
    ['colon-space', 'chat: x'],
    ['a space', 'my chat'],
    ['a slash', 'a/b'],
    ['a NUL', 'a\u0000'],
    ['non-ASCII letters', 'café'],
    ['a brace', 'a{b}'],
  ])('refuses %s with 400 invalid_channel', (_, name) => {
    expect(isValidChannel(name)).toBe(false);
    const error = errorOf(() => assertChannel(name));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_channel');
  });
});

describe('event names', () => {
  it('follow the documented pattern and default to message', () => {
    expect(EVENT_NAME_PATTERN.source).toBe('^[A-Za-z][A-Za-z0-9_.:-]{0,63}$');
    expect(DEFAULT_EVENT_NAME).toBe('message');
  });

  it.each(['message', 'a', 'Z9', 'user.joined', 'x:y-z_1', 'h'.repeat(64), 'hub', 'hubx.y', 'Hub.gap'])('accepts %j', (name) => {
    expect(isPublishableEventName(name)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['a leading digit', '1abc'],
    ['a leading dot', '.abc'],
    ['65 characters', 'h'.repeat(65)],
    ['the reserved hub. prefix', 'hub.gap'],
    ['the bare reserved prefix', 'hub.'],
    ['a newline', 'a\nb'],
    ['a carriage return', 'a\rb'],
    ['colon-space', 'a: b'],
    ['a space', 'a b'],
    ['a quote', 'a"b'],
  ])('refuses %s', (_, name) => {
    expect(isPublishableEventName(name)).toBe(false);
  });
});

describe('parseResumePoint', () => {
  it.each([
    ['absent', undefined],
    ['null', null],
    ['empty', ''],
  ])('treats %s as no resume point', (_, value) => {
    expect(parseResumePoint(value)).toBeNull();
  });

  it.each([
    ['0', 0],
    ['1', 1],
    ['42', 42],
    ['007', 7],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    ['1764064800000000', 1_764_064_800_000_000],
  ])('reads %j as %d', (text, value) => {
    expect(parseResumePoint(text)).toBe(value);
  });

  it('accepts 16 digits even past 2^53 (such a point is newer than any id, so it reads as a gap)', () => {
    expect(parseResumePoint('9999999999999999')).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
  });

  it('keeps 16-digit resume points exact below 2^53', () => {
    expect(parseResumePoint('1764064800123457')).toBe(1_764_064_800_123_457);
  });

  it.each([
    ['17 digits', '12345678901234567'],
    ['negative', '-1'],
    ['fractional', '1.5'],
    ['a leading space', ' 1'],
    ['a trailing space', '1 '],
    ['exponent notation', '1e3'],
    ['hexadecimal', '0x10'],
    ['a plus sign', '+1'],
    ['a trailing newline', '1\n'],
    ['letters', 'abc'],
    ['full-width digits', '１２'],
    ['10 kB of digits', '1'.repeat(10_240)],
  ])('refuses %s with 400 invalid_last_event_id', (_, text) => {
    const error = errorOf(() => parseResumePoint(text));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_last_event_id');
  });
});

describe('stored events', () => {
  it('serialize to one line of JSON that is also the history item', () => {
    const raw = serializeStoredEvent(43, 'message', '{"text":"a\\nb"}');
    expect(raw).toBe('{"id":"43","event":"message","data":{"text":"a\\nb"}}');
    expect(raw).not.toMatch(/[\r\n]/);
    expect(JSON.parse(raw)).toEqual({ id: '43', event: 'message', data: { text: 'a\nb' } });
  });

  it.each([
    ['null', null],
    ['zero', 0],
    ['false', false],
    ['the empty string', ''],
    ['a string with a closing brace and quotes', '"}{"id":"1"'],
    ['an array', [1, 'two', { three: 3 }]],
    ['a nested object', { a: { b: [null, true] }, 'k"ey': '\u2028' }],
  ])('round-trip %s through serialize and parse', (_, data) => {
    const dataJson = JSON.stringify(data);
    const raw = serializeStoredEvent(1_764_064_800_000_001, 'custom.name', dataJson);
    const parsed = parseStoredEvent(raw);
    expect(parsed).toEqual({ id: 1_764_064_800_000_001, event: 'custom.name', dataJson, raw });
    expect(JSON.parse(parsed.dataJson)).toEqual(data);
  });

  it.each([
    ['empty text', ''],
    ['plain JSON of another shape', '{"event":"message","id":"1","data":1}'],
    ['a non-numeric id', '{"id":"x","event":"message","data":1}'],
    ['a truncated entry', '{"id":"1","event":"message","data":1'],
  ])('refuse to parse %s', (_, raw) => {
    expect(() => parseStoredEvent(raw)).toThrow(/malformed stored event/);
  });
});

import { AppError } from '../../src/errors';
import { parsePublishBody } from '../../src/publish-body';

function codeOf(body: unknown): string {
  try {
    parsePublishBody(body);
  } catch (error) {
    if (error instanceof AppError) return `${error.status} ${error.code}`;
    throw error;
  }
  return 'accepted';
}

describe('parsePublishBody', () => {
  it.each([
    ['null', null],
    ['zero', 0],
    ['false', false],
    ['the empty string', ''],
    ['an empty object', {}],
    ['an empty array', []],
    ['a nested value', { user: 'alice', tags: ['a', 'b'], n: 1.5 }],
  ])('accepts %s as data and stores it as compact JSON', (_, data) => {
    const input = parsePublishBody({ data });
    expect(input).toEqual({ event: 'message', dataJson: JSON.stringify(data) });
  });

  it('defaults the event name to message', () => {
    expect(parsePublishBody({ data: 1 }).event).toBe('message');
  });

  it('keeps a custom publishable event name', () => {
    expect(parsePublishBody({ event: 'user.joined', data: { name: 'bob' } })).toEqual({
      event: 'user.joined',
      dataJson: '{"name":"bob"}',
    });
  });

  it('writes data without line breaks even when strings contain them', () => {
    const { dataJson } = parsePublishBody({ data: { text: 'a\nb\r\nc\rd\u2028e\u2029f' } });
    expect(dataJson).not.toMatch(/[\r\n]/);
    expect(JSON.parse(dataJson)).toEqual({ text: 'a\nb\r\nc\rd\u2028e\u2029f' });
  });

  it.each([
    ['an array', [{ data: 1 }]],
    ['a string', 'hello'],
    ['a number', 5],
    ['null', null],
    ['true', true],
    ['an object without data', { event: 'message' }],
    ['an empty object', {}],
    ['an unknown field', { data: 1, extra: true }],
    ['a numeric event', { event: 5, data: 1 }],
    ['an empty event name', { event: '', data: 1 }],
    ['a reserved hub. event', { event: 'hub.gap', data: 1 }],
    ['an event with a newline', { event: 'a\nid: 1', data: 1 }],
    ['an event with colon-space', { event: 'a: b', data: 1 }],
    ['an event starting with a digit', { event: '1a', data: 1 }],
    ['an event of 65 characters', { event: 'e'.repeat(65), data: 1 }],
  ])('refuses %s with 400 invalid_event', (_, body) => {
    expect(codeOf(body)).toBe('400 invalid_event');
  });

  it('refuses data nested too deeply to serialize with 400 invalid_event instead of crashing', () => {
    const depth = 100_000;
    const body = JSON.parse(`{"data":${'['.repeat(depth)}${']'.repeat(depth)}}`) as unknown;
    expect(codeOf(body)).toBe('400 invalid_event');
  });
});

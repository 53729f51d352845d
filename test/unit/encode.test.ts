import { encodeComment, encodeEvent, encodeRetry, encodeUnidentifiedEvent } from '../../src/sse/encode';

describe('the SSE encoder', () => {
  it('writes an event as id, event and data lines followed by the blank line that dispatches it', () => {
    expect(encodeEvent(42, 'message', '{"user":"alice","text":"hello"}').toString('utf8')).toBe(
      'id: 42\nevent: message\ndata: {"user":"alice","text":"hello"}\n\n',
    );
  });

  it('writes ids in decimal, never in exponent notation, up to 2^53 - 1', () => {
    expect(encodeEvent(1_764_064_800_000_000, 'e', 'null').toString()).toBe('id: 1764064800000000\nevent: e\ndata: null\n\n');
    expect(encodeEvent(Number.MAX_SAFE_INTEGER, 'e', '0').toString()).toContain(`id: ${Number.MAX_SAFE_INTEGER}\n`);
  });

  it('encodes non-ASCII data as UTF-8 bytes', () => {
    const bytes = encodeEvent(1, 'message', '"héllo 👋"');
    expect(bytes).toBeInstanceOf(Buffer);
    expect(bytes.toString('utf8')).toBe('id: 1\nevent: message\ndata: "héllo 👋"\n\n');
    expect(bytes.length).toBe(Buffer.byteLength('id: 1\nevent: message\ndata: "héllo 👋"\n\n'));
  });

  it('writes an unidentified event without an id line, so it does not move the resume point', () => {
    const text = encodeUnidentifiedEvent('hub.gap', '{"lastEventId":"5","firstAvailableId":null}').toString();
    expect(text).toBe('event: hub.gap\ndata: {"lastEventId":"5","firstAvailableId":null}\n\n');
    expect(text).not.toMatch(/^id:/m);
  });

  it('writes a comment as one line starting with a colon', () => {
    expect(encodeComment('heartbeat').toString()).toBe(': heartbeat\n\n');
  });

  it('turns line breaks in a comment into spaces, so a comment cannot start a field', () => {
    const text = encodeComment('a\nid: 9\r\ndata: x\rb').toString();
    expect(text).toBe(': a id: 9  data: x b\n\n');
    expect(text.split('\n').filter((line) => line !== '')).toHaveLength(1);
  });

  it('writes the retry field as a whole number of milliseconds, never negative', () => {
    expect(encodeRetry(2000).toString()).toBe('retry: 2000\n\n');
    expect(encodeRetry(12345.9).toString()).toBe('retry: 12345\n\n');
    expect(encodeRetry(-5).toString()).toBe('retry: 0\n\n');
  });
});

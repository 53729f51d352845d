import { SseParser, type SseMessage } from '../../client/src/sse-parser.js';

function parseAll(chunks: string[]): SseMessage[] {
  const parser = new SseParser();
  return chunks.flatMap((chunk) => parser.feed(chunk));
}

describe('SseParser', () => {
  it('parses an event with id, name and data, and the default name when none is given', () => {
    expect(parseAll(['id: 42\nevent: created\ndata: {"a":1}\n\ndata: x\n\n'])).toEqual([
      { type: 'event', id: '42', event: 'created', data: '{"a":1}' },
      { type: 'event', id: undefined, event: 'message', data: 'x' },
    ]);
  });

  it('reports an id-only block as a position, not as an event', () => {
    expect(parseAll(['retry: 2000\n\nid: a=1,b=2\n\n'])).toEqual([
      { type: 'retry', retryMs: 2000 },
      { type: 'id', id: 'a=1,b=2' },
    ]);
  });

  it('gives the same messages whatever the chunking, including CRLF split between chunks', () => {
    const text = 'retry: 100\r\n\r\n: hb\r\nid: 1\r\nevent: e\r\ndata: one\r\ndata: two\r\n\r\nid: 2\rdata: three\r\r';
    const whole = parseAll([text]);
    expect(whole).toEqual([
      { type: 'retry', retryMs: 100 },
      { type: 'comment', text: 'hb' },
      { type: 'event', id: '1', event: 'e', data: 'one\ntwo' },
      { type: 'event', id: '2', event: 'message', data: 'three' },
    ]);
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = [];
      for (let index = 0; index < text.length; index += size) chunks.push(text.slice(index, index + size));
      expect(parseAll(chunks)).toEqual(whole);
    }
  });

  it('strips a leading BOM and one space after the colon only', () => {
    expect(parseAll(['\ufeffdata:  two spaces\n\n'])).toEqual([{ type: 'event', id: undefined, event: 'message', data: ' two spaces' }]);
  });

  it('dispatches an empty data line as an empty event and ignores a block without data or id', () => {
    expect(parseAll(['data:\n\nevent: lonely\n\n'])).toEqual([{ type: 'event', id: undefined, event: 'message', data: '' }]);
  });

  it('ignores unknown fields, a retry that is not digits and an id containing NUL', () => {
    expect(parseAll(['foo: bar\nretry: 1s\nid: a\0b\ndata: x\n\n'])).toEqual([{ type: 'event', id: undefined, event: 'message', data: 'x' }]);
  });

  it('does not dispatch an unterminated last block', () => {
    expect(parseAll(['data: partial\n'])).toEqual([]);
  });
});

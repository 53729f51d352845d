/**
 * An incremental parser of the `text/event-stream` format (WHATWG HTML, "Server-sent events"),
 * fed decoded text in chunks of any size. Unlike a browser's EventSource it reports an id-only
 * block (`id:` and a blank line, no `data:`) as its own message, since the hub uses one to tell
 * the stream's starting position, and it reports only the `id:` a block itself carried.
 */

/** What one block (or line) of the stream meant. */
export type SseMessage =
  | { readonly type: 'event'; readonly event: string; readonly data: string; readonly id: string | undefined }
  | { readonly type: 'id'; readonly id: string }
  | { readonly type: 'retry'; readonly retryMs: number }
  | { readonly type: 'comment'; readonly text: string };

const DEFAULT_EVENT = 'message';

/** Parses one stream; make a new parser per connection. */
export class SseParser {
  private pending = '';
  private started = false;
  private skipLeadingLineFeed = false;
  private dataLines: string[] = [];
  private hasData = false;
  private eventName = '';
  private blockId: string | undefined;

  /** Parses `chunk` and returns the messages it completed, in order. Never throws. */
  feed(chunk: string): SseMessage[] {
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A CR ending the previous chunk may be the first half of a CRLF.
    if (this.skipLeadingLineFeed && text.startsWith('\n')) text = text.slice(1);
    this.skipLeadingLineFeed = false;
    const messages: SseMessage[] = [];
    let buffer = this.pending + text;
    let start = 0;
    for (;;) {
      const end = nextLineBreak(buffer, start);
      if (end === -1) break;
      this.line(buffer.slice(start, end), messages);
      if (buffer.charCodeAt(end) === 13) {
        if (end + 1 === buffer.length) {
          this.skipLeadingLineFeed = true;
          start = end + 1;
          break;
        }
        start = buffer.charCodeAt(end + 1) === 10 ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
    }
    buffer = buffer.slice(start);
    this.pending = buffer;
    return messages;
  }

  private line(line: string, messages: SseMessage[]): void {
    if (line === '') {
      this.dispatch(messages);
      return;
    }
    if (line.startsWith(':')) {
      messages.push({ type: 'comment', text: line.slice(1).trimStart() });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case 'event':
        this.eventName = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.blockId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) messages.push({ type: 'retry', retryMs: Number(value) });
        break;
      default:
        break;
    }
  }

  private dispatch(messages: SseMessage[]): void {
    if (this.hasData) {
      messages.push({
        type: 'event',
        event: this.eventName === '' ? DEFAULT_EVENT : this.eventName,
        data: this.dataLines.join('\n'),
        id: this.blockId,
      });
    } else if (this.blockId !== undefined) {
      messages.push({ type: 'id', id: this.blockId });
    }
    this.dataLines = [];
    this.hasData = false;
    this.eventName = '';
    this.blockId = undefined;
  }
}

function nextLineBreak(text: string, from: number): number {
  for (let index = from; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 10 || code === 13) return index;
  }
  return -1;
}

/**
 * Reads the text of an event stream as it arrives and records, for each `probe` event, when it
 * arrived; also counts comment lines (heartbeats). Pure and self-contained like judge.ts: the
 * command (Node) and the /doctor page (browser, built as an ES module) share it.
 */

/** One dispatched `probe` event, with its arrival time on the reader's clock. */
export interface ReadProbeEvent {
  readonly seq: number;
  readonly sentAtMs: number;
  readonly receivedAtMs: number;
  readonly lastEventId: string | null;
}

/** Incremental SSE reader: feed it decoded text with the time it arrived. */
export class ProbeReader {
  /** The probe events dispatched so far, in order. */
  readonly events: ReadProbeEvent[] = [];
  /** Comment lines seen (the hub's heartbeats start with `:`). */
  comments = 0;
  private pending = '';
  private eventName = '';
  private data: string[] = [];

  /** Takes the next piece of the body; `atMs` is when it arrived. */
  push(text: string, atMs: number): void {
    this.pending += text;
    let newline = this.pending.search(/\r\n|\r|\n/);
    while (newline !== -1) {
      const line = this.pending.slice(0, newline);
      const width = this.pending.startsWith('\r\n', newline) ? 2 : 1;
      // A lone CR at the end may be the first half of CRLF: wait for the next piece.
      if (width === 1 && this.pending[newline] === '\r' && newline === this.pending.length - 1) return;
      this.pending = this.pending.slice(newline + width);
      this.line(line, atMs);
      newline = this.pending.search(/\r\n|\r|\n/);
    }
  }

  private line(line: string, atMs: number): void {
    if (line === '') {
      this.dispatch(atMs);
      return;
    }
    if (line.startsWith(':')) {
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') this.eventName = value;
    if (field === 'data') this.data.push(value);
  }

  private dispatch(atMs: number): void {
    const name = this.eventName;
    const data = this.data.join('\n');
    this.eventName = '';
    this.data = [];
    if (name !== 'probe' || data === '') return;
    try {
      const parsed = JSON.parse(data) as { seq?: unknown; sentAt?: unknown; lastEventId?: unknown };
      this.events.push({
        seq: Number(parsed.seq),
        sentAtMs: Date.parse(String(parsed.sentAt)),
        receivedAtMs: atMs,
        lastEventId: typeof parsed.lastEventId === 'string' ? parsed.lastEventId : null,
      });
    } catch {
      // Not the hub's probe: the answer check reports the route.
    }
  }
}

import { PassThrough } from 'node:stream';
import { PROBE_INTERVAL_MS, runProbe, type ProbeClock } from '../../src/doctor/probe-stream';

/** A clock that moves only when told, and shows which timers are pending. */
class ManualClock implements ProbeClock {
  private nowMs = Date.parse('2026-01-01T00:00:00.000Z');
  private nextHandle = 1;
  readonly timers = new Map<number, { atMs: number; callback: () => void }>();

  now(): number {
    return this.nowMs;
  }

  setTimer(callback: () => void, ms: number): unknown {
    const handle = this.nextHandle++;
    this.timers.set(handle, { atMs: this.nowMs + ms, callback });
    return handle;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, timer]) => timer.atMs <= until).sort((a, b) => a[1].atMs - b[1].atMs)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.nowMs = due[1].atMs;
      due[1].callback();
    }
    this.nowMs = until;
  }
}

function collect(stream: PassThrough): { text: () => string } {
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { text: () => text };
}

function probeEvent(seq: number, sentAt: string, lastEventId: string | null): string {
  return `event: probe\ndata: ${JSON.stringify({ seq, sentAt, lastEventId })}\n\n`;
}

describe('the probe stream', () => {
  it('sends six probe events 250 ms apart, the first at once, with the Last-Event-ID received and no id, then ends', async () => {
    const clock = new ManualClock();
    const stream = new PassThrough();
    const output = collect(stream);
    const ended = new Promise((resolve) => stream.once('end', resolve));
    runProbe(stream, 'abc', clock);
    await new Promise(setImmediate);
    expect(output.text()).toBe(probeEvent(1, '2026-01-01T00:00:00.000Z', 'abc'));
    clock.advance(PROBE_INTERVAL_MS - 1);
    await new Promise(setImmediate);
    expect(output.text()).not.toContain('"seq":2');
    clock.advance(5 * PROBE_INTERVAL_MS);
    await ended;
    const expected = [0, 250, 500, 750, 1000, 1250].map((ms, index) => probeEvent(index + 1, new Date(Date.parse('2026-01-01T00:00:00.000Z') + ms).toISOString(), 'abc'));
    expect(output.text()).toBe(expected.join(''));
    expect(output.text()).not.toMatch(/^id:/m);
    expect(clock.timers.size).toBe(0);
  });

  it('echoes a missing Last-Event-ID as null', async () => {
    const stream = new PassThrough();
    const output = collect(stream);
    runProbe(stream, null, new ManualClock());
    await new Promise(setImmediate);
    expect(output.text()).toContain('"lastEventId":null');
    stream.destroy();
  });

  it('clears its timer when the client leaves early, and writes nothing more', async () => {
    const clock = new ManualClock();
    const stream = new PassThrough();
    const output = collect(stream);
    runProbe(stream, null, clock);
    clock.advance(PROBE_INTERVAL_MS);
    expect(clock.timers.size).toBe(1);
    const closed = new Promise((resolve) => stream.once('close', resolve));
    stream.destroy();
    await closed;
    expect(clock.timers.size).toBe(0);
    const sent = output.text();
    clock.advance(10 * PROBE_INTERVAL_MS);
    expect(output.text()).toBe(sent);
  });

  it('runs on jest\'s fake timers with the default clock', () => {
    jest.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00.000Z') });
    try {
      const stream = new PassThrough();
      const output = collect(stream);
      runProbe(stream, null);
      jest.advanceTimersByTime(5 * PROBE_INTERVAL_MS);
      stream.resume();
      expect(stream.writableEnded).toBe(true);
      expect(jest.getTimerCount()).toBe(0);
      expect(output.text().match(/event: probe/g)).toHaveLength(6);
      expect(output.text()).toContain('"seq":6,"sentAt":"2026-01-01T00:00:01.250Z"');
    } finally {
      jest.useRealTimers();
    }
  });
});

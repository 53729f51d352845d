import { parseDoctorArguments } from '../../src/cli/doctor';
import { runSsehub } from '../../src/cli/ssehub';
import { anyFailed, formatReport, judge, type Observations, type ProbeArrival, type ProbeObservation } from '../../src/doctor/judge';
import { ProbeReader } from '../../src/doctor/probe-reader';

const SENT = Date.parse('2026-01-01T00:00:00.000Z');
const HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform' };

/** Six events sent 250 ms apart (hub clock), arriving at `arrivals` ms (our clock). */
function events(arrivals: readonly number[], lastEventId: string | null = 'doctor-1'): ProbeArrival[] {
  return arrivals.map((receivedAtMs, index) => ({ seq: index + 1, sentAtMs: SENT + 250 * index, receivedAtMs, lastEventId }));
}

function probe(overrides: Partial<ProbeObservation> = {}): ProbeObservation {
  return { status: 200, headers: HEADERS, firstByteMs: 40, events: events([40, 290, 540, 790, 1040, 1290]), ended: true, lastEventIdSent: 'doctor-1', ...overrides };
}

function verdictOf(observations: Partial<Observations> & { probe: ProbeObservation }, check: string): string | undefined {
  return judge({ url: 'http://hub', ...observations }).find((result) => result.check === check)?.verdict;
}

describe('the doctor\'s judge', () => {
  it('passes a probe that arrived as it was sent, whatever the offset between the two clocks', () => {
    const results = judge({ url: 'http://hub', probe: probe() });
    expect(results.map((result) => [result.check, result.verdict])).toEqual([
      ['answer', 'PASS'],
      ['compression', 'PASS'],
      ['caching', 'PASS'],
      ['buffering', 'PASS'],
      ['first byte', 'PASS'],
      ['Last-Event-ID', 'PASS'],
    ]);
    expect(anyFailed(results)).toBe(false);
  });

  it('fails buffering when the events arrived together, warns when some did', () => {
    expect(verdictOf({ probe: probe({ events: events([1290, 1290, 1291, 1291, 1292, 1292]), firstByteMs: 1290 }) }, 'buffering')).toBe('FAIL');
    expect(verdictOf({ probe: probe({ events: events([40, 41, 540, 541, 1040, 1290]) }) }, 'buffering')).toBe('WARN');
    expect(verdictOf({ probe: probe({ events: events([40, 290, 540]), ended: true }) }, 'buffering')).toBe('FAIL');
  });

  it('fails compression, caching and a lost Last-Event-ID', () => {
    expect(verdictOf({ probe: probe({ headers: { ...HEADERS, 'content-encoding': 'gzip' } }) }, 'compression')).toBe('FAIL');
    expect(verdictOf({ probe: probe({ headers: { 'content-type': 'text/event-stream' } }) }, 'caching')).toBe('FAIL');
    expect(verdictOf({ probe: probe({ headers: { ...HEADERS, 'cache-control': 'public, max-age=60' } }) }, 'caching')).toBe('FAIL');
    expect(verdictOf({ probe: probe({ headers: { ...HEADERS, age: '12' } }) }, 'caching')).toBe('FAIL');
    expect(verdictOf({ probe: probe({ events: events([40, 290, 540, 790, 1040, 1290], null) }) }, 'Last-Event-ID')).toBe('FAIL');
  });

  it('fails an answer that is not the hub\'s probe, and reports nothing it could not see', () => {
    const results = judge({ url: 'http://hub', probe: probe({ status: 404, headers: { 'content-type': 'text/html' }, events: [] }) });
    expect(results.map((result) => [result.check, result.verdict])).toEqual([['answer', 'FAIL']]);
    expect(judge({ url: 'http://hub', probe: probe({ error: 'connect ECONNREFUSED', events: [] }) })[0]?.verdict).toBe('FAIL');
    expect(judge({ url: 'http://hub', probe: probe({ events: [] }) })[0]?.verdict).toBe('WARN');
  });

  it('judges the CORS answer for --origin and the idle stream for --idle', () => {
    const cors = (allowed?: string): string | undefined =>
      verdictOf({ probe: probe({ origin: 'https://app', headers: allowed === undefined ? HEADERS : { ...HEADERS, 'access-control-allow-origin': allowed } }) }, 'CORS');
    expect([cors('https://app'), cors('*'), cors('https://other'), cors()]).toEqual(['PASS', 'WARN', 'FAIL', 'FAIL']);
    const idle = { seconds: 8, status: 200, heldMs: 8000, survived: true, heartbeats: 0 };
    expect(verdictOf({ probe: probe(), idle }, 'idle stream')).toBe('PASS');
    expect(verdictOf({ probe: probe(), idle: { ...idle, survived: false, heldMs: 5000 } }, 'idle stream')).toBe('FAIL');
    expect(verdictOf({ probe: probe(), idle: { ...idle, seconds: 40, heldMs: 40_000 } }, 'idle stream')).toBe('WARN');
  });

  it('prints each verdict on a line and the fix under a failure', () => {
    const text = formatReport('http://hub', judge({ url: 'http://hub', probe: probe({ headers: { ...HEADERS, 'content-encoding': 'gzip' } }) }));
    expect(text).toMatch(/^FAIL {2}compression: Content-Encoding: gzip\n {6}fix: .*gzip off;/m);
    expect(text).toMatch(/^PASS {2}buffering: /m);
    expect(text.trimEnd().split('\n').at(-1)).toBe('1 failed, 0 warned');
  });
});

describe('the probe reader', () => {
  it('times each probe event by the piece that completed it, across split lines and CRLF', () => {
    const reader = new ProbeReader();
    reader.push('retry: 2000\r\n\r\nevent: probe\r\ndata: {"seq":1,"sentAt":"2026-01-01T00:00:00.000Z",', 5);
    reader.push('"lastEventId":"x"}\r\n\r\n: heartbeat\n\n', 9);
    expect(reader.events).toEqual([{ seq: 1, sentAtMs: SENT, receivedAtMs: 9, lastEventId: 'x' }]);
    expect(reader.comments).toBe(1);
  });
});

describe('the ssehub command line', () => {
  it('parses doctor\'s arguments and refuses wrong ones', () => {
    expect(parseDoctorArguments(['https://hub.example/sse', '--origin', 'https://app.example', '--idle', '20', '--json'])).toEqual({
      url: 'https://hub.example/sse',
      origin: 'https://app.example',
      idleSeconds: 20,
      json: true,
    });
    expect(parseDoctorArguments([])).toMatch(/URL is missing/);
    expect(parseDoctorArguments(['ftp://hub'])).toMatch(/not an http\(s\) URL/);
    expect(parseDoctorArguments(['http://hub', '--idle', 'x'])).toMatch(/--idle must be/);
    expect(parseDoctorArguments(['http://hub', '--origin', 'https://app.example/page'])).toMatch(/--origin must be an origin/);
    expect(parseDoctorArguments(['http://hub', '--bogus'])).toMatch(/unknown option --bogus/);
  });

  it('runs the named command of its table with the remaining arguments, and answers 2 to an unknown one', async () => {
    let output = '';
    const io = { stdout: (text: string) => (output += text), stderr: (text: string) => (output += text) };
    const seen: string[][] = [];
    const commands = { echo: (args: string[]) => (seen.push(args), Promise.resolve(7)) };
    expect(await runSsehub(['echo', 'a', 'b'], commands, io)).toBe(7);
    expect(seen).toEqual([['a', 'b']]);
    expect(await runSsehub(['nope'], commands, io)).toBe(2);
    expect(output).toContain('unknown command "nope"');
    expect(output).toContain('commands: echo');
  });
});

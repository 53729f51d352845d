/**
 * The doctor's judgement: observations of a deployment -> one verdict per check, with what was
 * seen and, for a failure, the fix. Pure and self-contained (no imports, no Node or DOM API):
 * `ssehub doctor` uses it as CommonJS, and the build also emits it as an ES module that the
 * /doctor page imports, so the command and the page judge with this one source.
 */

export type Verdict = 'PASS' | 'WARN' | 'FAIL';

/** One check's outcome. `fix` is set for FAIL and WARN: what to change, and where. */
export interface CheckResult {
  readonly check: string;
  readonly verdict: Verdict;
  readonly saw: string;
  readonly fix?: string;
}

/** One `probe` event as it arrived: the hub's send time, and ours (each on its own clock). */
export interface ProbeArrival {
  readonly seq: number;
  readonly sentAtMs: number;
  readonly receivedAtMs: number;
  readonly lastEventId: string | null;
}

/** What the request to `GET /diagnostics/probe` saw. Times are ms since the request started. */
export interface ProbeObservation {
  /** Set when no answer came (connection refused, DNS, TLS, timeout). */
  readonly error?: string;
  readonly status?: number;
  /** Response headers, lower-case names. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly firstByteMs?: number;
  readonly events: readonly ProbeArrival[];
  /** True when the response ended (rather than being abandoned at the time limit). */
  readonly ended: boolean;
  /** The `Last-Event-ID` header the request carried. */
  readonly lastEventIdSent: string;
  /** The `Origin` the request carried (`--origin`), if any. */
  readonly origin?: string;
}

/** An idle channel stream held open for `seconds`. */
export interface IdleObservation {
  readonly seconds: number;
  readonly error?: string;
  readonly status?: number;
  /** How long the stream stayed open (at most `seconds` * 1000). */
  readonly heldMs: number;
  /** False when the connection ended or failed before `seconds` passed. */
  readonly survived: boolean;
  /** Comment lines (heartbeats) received. */
  readonly heartbeats: number;
}

export interface Observations {
  readonly url: string;
  readonly probe: ProbeObservation;
  readonly idle?: IdleObservation;
  /** The browser page only: how many probe events an EventSource dispatched. */
  readonly eventSource?: { readonly events: number; readonly error?: string };
}

/** The probe's events are sent this far apart (GET /diagnostics/probe). */
const PROBE_EVENTS = 6;
/** Arrivals spread over less than this share of the send spread: something held them back. */
const BUFFERED_SPREAD = 0.5;
/** A pair that arrived within this share of its send gap arrived "together". */
const BUNCHED_PAIR = 0.25;
const SLOW_FIRST_BYTE_MS = 1000;
/** An idle stream this long with no heartbeat at all is suspicious (HEARTBEAT_MS is 15 s). */
const HEARTBEAT_EXPECTED_S = 30;

const FIX = {
  unreachable:
    'Nothing answered at this URL: check the URL, DNS, TLS (the certificate must be valid for this host), and that the hub or the proxy in front of it is running and reachable from here.',
  route:
    'The probe did not come from ssehub: check that the proxy forwards /diagnostics/probe to the hub (the same upstream as the stream routes) and that the hub is this version or newer.',
  compression:
    'Never compress text/event-stream: compression buffers events until a block fills. nginx: `gzip off;` in the stream locations and no text/event-stream in gzip_types. Cloudflare: exclude the stream paths with a Compression Rule. CloudFront: set "Compress objects automatically" to No on the stream paths\' cache behavior. Fastly: leave text/event-stream out of the gzip content types.',
  caching:
    'Streams must never be cached: pass the hub\'s `Cache-Control: no-cache` through unchanged. nginx: `proxy_cache off;` on the stream locations. Cloudflare: a Cache Rule "bypass cache" for the stream paths. CloudFront: the CachingDisabled policy on the stream paths\' behavior. Fastly: `return(pass)` for them in vcl_recv. An intermediary that strips or rewrites Cache-Control must be configured to keep it.',
  buffering:
    'Something between the hub and you holds events back and releases them together. nginx: `proxy_buffering off;` and `proxy_http_version 1.1;` in the stream locations, and keep the hub\'s `X-Accel-Buffering: no` honoured (not in proxy_ignore_headers). Cloudflare streams by default: turn off any Response Buffering / Workers that read the body. CloudFront: no compression and no Lambda@Edge or function that reads the body. Fastly: `set beresp.do_stream = true;` (streaming miss) and pass. Other proxies and load balancers: disable response buffering for the stream routes.',
  lastEventId:
    'The `Last-Event-ID` request header does not reach the hub, so reconnecting clients cannot resume. nginx forwards it by default: remove any `proxy_set_header Last-Event-ID "";` (or add `proxy_set_header Last-Event-ID $http_last_event_id;` where a location sets its own headers). CloudFront: add Last-Event-ID to the origin request policy of the stream paths. Cloudflare and Fastly forward it by default. When an intermediary strips headers and cannot be changed, clients can resume with the `?lastEventId=` query parameter instead.',
  cors:
    'The answer for this origin has no matching `Access-Control-Allow-Origin`. Add the origin to the hub\'s CORS_ORIGINS; if it is listed, an intermediary strips the Access-Control-* headers or caches another origin\'s answer: let it pass them through and vary its cache on Origin (or do not cache streams at all).',
  idle:
    'An intermediary cuts idle connections sooner than the hub\'s heartbeat keeps them busy. Raise its idle timeout above HEARTBEAT_MS (15 s by default) or lower HEARTBEAT_MS below it. nginx: `proxy_read_timeout 1h;` (and `proxy_send_timeout`) on the stream locations. Cloudflare cuts after 100 s without a byte; AWS ALB after its idle timeout (60 s by default); CloudFront after its origin response timeout (30 s by default): keep HEARTBEAT_MS well under these.',
  firstByte:
    'The first byte took long. If it came about when the probe ended, the stream is buffered (see above); otherwise the path to the hub is slow (TLS set-up, a distant region, an overloaded proxy).',
} as const;

function pass(check: string, saw: string): CheckResult {
  return { check, verdict: 'PASS', saw };
}

function fail(check: string, saw: string, fix: string): CheckResult {
  return { check, verdict: 'FAIL', saw, fix };
}

function warn(check: string, saw: string, fix: string): CheckResult {
  return { check, verdict: 'WARN', saw, fix };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Every check the observations allow, in a stable order. */
export function judge(observations: Observations): CheckResult[] {
  const probe = observations.probe;
  const results: CheckResult[] = [];
  const answer = judgeAnswer(probe);
  results.push(answer);
  if (answer.verdict === 'FAIL' || probe.events.length === 0) return results.concat(judgeIdle(observations.idle));
  const headers = probe.headers ?? {};
  results.push(judgeCompression(headers));
  results.push(judgeCaching(headers));
  results.push(judgeSpread(probe));
  results.push(judgeFirstByte(probe));
  results.push(judgeLastEventId(probe));
  if (probe.origin !== undefined) results.push(judgeCors(probe.origin, headers));
  if (observations.eventSource !== undefined) results.push(judgeEventSource(observations.eventSource));
  return results.concat(judgeIdle(observations.idle));
}

/** True when any check failed: the command's exit code is 1. */
export function anyFailed(results: readonly CheckResult[]): boolean {
  return results.some((result) => result.verdict === 'FAIL');
}

function judgeAnswer(probe: ProbeObservation): CheckResult {
  const check = 'answer';
  if (probe.error !== undefined) return fail(check, `no answer: ${probe.error}`, FIX.unreachable);
  const type = probe.headers?.['content-type'] ?? '(none)';
  const saw = `HTTP ${String(probe.status)}, Content-Type ${type}`;
  if (probe.status !== 200 || !/^text\/event-stream\b/i.test(type)) return fail(check, saw, FIX.route);
  if (probe.events.length === 0 && probe.ended) {
    return warn(check, `${saw}, but no events: the hub is busy (10 probes at a time) or refusing streams`, 'Run the doctor again in a few seconds.');
  }
  return pass(check, saw);
}

function judgeCompression(headers: Readonly<Record<string, string>>): CheckResult {
  const encoding = (headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return pass('compression', 'no Content-Encoding');
  return fail('compression', `Content-Encoding: ${encoding}`, FIX.compression);
}

function judgeCaching(headers: Readonly<Record<string, string>>): CheckResult {
  const cacheControl = headers['cache-control'];
  const age = headers.age;
  if (age !== undefined && Number(age) > 0) return fail('caching', `Age: ${age}: the answer came from a cache`, FIX.caching);
  if (cacheControl === undefined) return fail('caching', 'no Cache-Control header: something strips it', FIX.caching);
  const directives = cacheControl.toLowerCase();
  const maxAge = /(?:^|[\s,])(?:s-)?max-age=(\d+)/.exec(directives);
  if (!/no-cache|no-store/.test(directives) || (maxAge !== null && Number(maxAge[1]) > 0)) {
    return fail('caching', `Cache-Control: ${cacheControl}`, FIX.caching);
  }
  return pass('caching', `Cache-Control: ${cacheControl}`);
}

function judgeSpread(probe: ProbeObservation): CheckResult {
  const check = 'buffering';
  const events = probe.events;
  if (events.length < PROBE_EVENTS) {
    return fail(check, `${events.length} of ${PROBE_EVENTS} events arrived before the stream ${probe.ended ? 'ended' : 'timed out'}`, FIX.buffering);
  }
  const first = events[0] as ProbeArrival;
  const last = events[events.length - 1] as ProbeArrival;
  const sentSpread = last.sentAtMs - first.sentAtMs;
  const receivedSpread = last.receivedAtMs - first.receivedAtMs;
  let bunched = 0;
  for (let index = 1; index < events.length; index++) {
    const previous = events[index - 1] as ProbeArrival;
    const current = events[index] as ProbeArrival;
    if (current.receivedAtMs - previous.receivedAtMs < BUNCHED_PAIR * (current.sentAtMs - previous.sentAtMs)) bunched++;
  }
  const saw = `sent over ${seconds(sentSpread)}, arrived over ${seconds(receivedSpread)}; ${bunched} of ${events.length - 1} arrived together with the one before`;
  if (receivedSpread < BUFFERED_SPREAD * sentSpread) return fail(check, saw, FIX.buffering);
  if (bunched > 1) return warn(check, saw, `Some events were held back: a buffer flushes by size or time somewhere, or the network is congested. ${FIX.buffering}`);
  return pass(check, saw);
}

function judgeFirstByte(probe: ProbeObservation): CheckResult {
  const firstByteMs = probe.firstByteMs ?? Number.NaN;
  const saw = `first byte after ${Math.round(firstByteMs)} ms`;
  return firstByteMs <= SLOW_FIRST_BYTE_MS ? pass('first byte', saw) : warn('first byte', saw, FIX.firstByte);
}

function judgeLastEventId(probe: ProbeObservation): CheckResult {
  const received = probe.events[0]?.lastEventId ?? null;
  const saw = `sent Last-Event-ID ${probe.lastEventIdSent}, the hub received ${received === null ? 'none' : received}`;
  return received === probe.lastEventIdSent ? pass('Last-Event-ID', saw) : fail('Last-Event-ID', saw, FIX.lastEventId);
}

function judgeCors(origin: string, headers: Readonly<Record<string, string>>): CheckResult {
  const allowed = headers['access-control-allow-origin'];
  const saw = `Origin ${origin}: Access-Control-Allow-Origin ${allowed ?? '(none)'}`;
  if (allowed === origin) return pass('CORS', saw);
  if (allowed === '*') {
    return warn('CORS', saw, 'A wildcard lets the page stream, but not with credentials (cookies); the hub itself answers with the origin, so an intermediary rewrote it.');
  }
  return fail('CORS', saw, FIX.cors);
}

function judgeEventSource(observed: { readonly events: number; readonly error?: string }): CheckResult {
  const saw = `EventSource dispatched ${observed.events} of ${PROBE_EVENTS} probe events${observed.error === undefined ? '' : ` (${observed.error})`}`;
  return observed.events === PROBE_EVENTS ? pass('EventSource', saw) : fail('EventSource', saw, FIX.buffering);
}

function judgeIdle(idle: IdleObservation | undefined): CheckResult[] {
  if (idle === undefined) return [];
  const check = 'idle stream';
  if (idle.error !== undefined && idle.status === undefined) return [fail(check, `could not open a stream: ${idle.error}`, FIX.unreachable)];
  if (idle.status !== undefined && idle.status !== 200) {
    return [warn(check, `the stream answered HTTP ${idle.status} (is the channel public? see PUBLIC_CHANNELS)`, 'Run the idle check against a hub where a random channel is public, or check the stream route.')];
  }
  const heartbeats = `${idle.heartbeats} heartbeat${idle.heartbeats === 1 ? '' : 's'}`;
  if (!idle.survived) {
    return [fail(check, `cut after ${seconds(idle.heldMs)} of ${idle.seconds} s (${heartbeats} arrived)${idle.error === undefined ? '' : `: ${idle.error}`}`, FIX.idle)];
  }
  const saw = `open for ${idle.seconds} s, ${heartbeats}`;
  if (idle.heartbeats === 0 && idle.seconds >= HEARTBEAT_EXPECTED_S) {
    return [warn(check, saw, 'No heartbeat arrived: HEARTBEAT_MS is longer than this, or something holds back small writes (see buffering).')];
  }
  return [pass(check, saw)];
}

/** The verdicts as the command prints them: one line each, then the fix, indented. */
export function formatReport(url: string, results: readonly CheckResult[]): string {
  const lines = [`ssehub doctor: ${url}`];
  for (const result of results) {
    lines.push(`${result.verdict.padEnd(4)}  ${result.check}: ${result.saw}`);
    if (result.fix !== undefined) lines.push(`      fix: ${result.fix}`);
  }
  const failed = results.filter((result) => result.verdict === 'FAIL').length;
  const warned = results.filter((result) => result.verdict === 'WARN').length;
  lines.push(failed > 0 ? `${failed} failed, ${warned} warned` : warned > 0 ? `no failures, ${warned} warned` : 'all checks passed');
  return `${lines.join('\n')}\n`;
}

// What the /doctor page looks at, from the browser, where the path through CDNs and proxies is
// the one users have: the probe through fetch (headers and arrival times), the same probe
// through EventSource, and optionally an idle channel stream. URLs are relative to the page, so
// a hub served under a path prefix is checked under it too.
import { ProbeReader } from './probe-reader.js';

const PROBE_LIMIT_MS = 15_000;

function randomHex() {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function messageOf(error) {
  return error instanceof Error ? error.message || error.name : String(error);
}

/** Reads `response`'s body into `reader` until it ends, the signal aborts, or `limitMs` passes. */
async function readBody(response, reader, started, onFirstByte) {
  const body = response.body.pipeThrough(new TextDecoderStream());
  const chunks = body.getReader();
  try {
    for (;;) {
      const { value, done } = await chunks.read();
      if (done) return true;
      const atMs = performance.now() - started;
      onFirstByte(atMs);
      reader.push(value, atMs);
    }
  } catch {
    return false;
  }
}

/** `GET diagnostics/probe` through fetch: status, headers, first byte, each event's arrival. */
export async function observeProbe() {
  const lastEventIdSent = `doctor-${randomHex()}`;
  const controller = new AbortController();
  const limit = setTimeout(() => controller.abort(), PROBE_LIMIT_MS);
  const started = performance.now();
  const reader = new ProbeReader();
  try {
    const response = await fetch('diagnostics/probe', {
      headers: { Accept: 'text/event-stream', 'Last-Event-ID': lastEventIdSent },
      cache: 'no-store',
      signal: controller.signal,
    });
    const headers = {};
    response.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
    let firstByteMs;
    const ended = await readBody(response, reader, started, (atMs) => (firstByteMs ??= atMs));
    return { lastEventIdSent, status: response.status, headers, firstByteMs, events: reader.events, ended };
  } catch (error) {
    return { lastEventIdSent, error: messageOf(error), events: reader.events, ended: false };
  } finally {
    clearTimeout(limit);
  }
}

/** The probe through EventSource: how many `probe` events it dispatches before the stream ends. */
export function observeEventSource() {
  return new Promise((resolve) => {
    const source = new EventSource('diagnostics/probe');
    let events = 0;
    const done = (error) => {
      clearTimeout(limit);
      source.close();
      resolve(error === undefined ? { events } : { events, error });
    };
    const limit = setTimeout(() => done('no end within 15 s'), PROBE_LIMIT_MS);
    source.addEventListener('probe', () => {
      events++;
    });
    // The probe ends after its sixth event: EventSource reports that as an error and would reconnect.
    source.addEventListener('error', () => done(events === 0 ? 'the stream failed before any event' : undefined));
  });
}

/** Holds a stream of a random (so silent) channel open for `seconds`, counting heartbeats. */
export async function observeIdle(seconds) {
  const controller = new AbortController();
  const started = performance.now();
  const heldMs = () => Math.min(seconds * 1000, performance.now() - started);
  let response;
  try {
    response = await fetch(`channels/doctor-idle-${randomHex()}/stream`, {
      headers: { Accept: 'text/event-stream' },
      cache: 'no-store',
      signal: controller.signal,
    });
  } catch (error) {
    return { seconds, error: messageOf(error), heldMs: heldMs(), survived: false, heartbeats: 0 };
  }
  if (response.status !== 200) {
    controller.abort();
    return { seconds, status: response.status, heldMs: heldMs(), survived: false, heartbeats: 0 };
  }
  const reader = new ProbeReader();
  let survived = false;
  const timer = setTimeout(() => {
    survived = true;
    controller.abort();
  }, Math.max(0, seconds * 1000 - heldMs()));
  await readBody(response, reader, started, () => undefined);
  clearTimeout(timer);
  const held = heldMs();
  return { seconds, status: 200, heldMs: survived ? seconds * 1000 : held, survived, heartbeats: reader.comments };
}

/** Everything the page judges; the idle stream (when asked for) is held while the probes run. */
export async function observe(idleSeconds) {
  const idle = idleSeconds > 0 ? observeIdle(idleSeconds) : undefined;
  const [probe, eventSource] = await Promise.all([observeProbe(), observeEventSource()]);
  const observations = { url: new URL('./', location.href).href, probe, eventSource };
  if (idle !== undefined) observations.idle = await idle;
  return observations;
}

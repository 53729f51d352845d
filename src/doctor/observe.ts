import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { IdleObservation, Observations, ProbeObservation } from './judge';
import { ProbeReader } from './probe-reader';

export interface ObserveOptions {
  /** The hub as users reach it (scheme, host, and any path prefix). */
  readonly url: string;
  /** `--origin`: sent as `Origin` on the probe, to read the CORS answer for it. */
  readonly origin?: string;
  /** `--idle`: hold an idle channel stream open this many seconds. */
  readonly idleSeconds?: number;
}

/** The probe takes 1.25 s; a buffering path releases it when it ends. Past this, give up. */
const PROBE_LIMIT_MS = 15_000;

/** A URL under the hub's base, keeping a path prefix (`https://host/hub` + `x` -> `/hub/x`). */
export function hubUrl(base: string, path: string): URL {
  const url = new URL(base);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return new URL(path, url);
}

function open(url: URL, headers: Record<string, string>): { response: Promise<IncomingMessage>; abort: () => void } {
  const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { headers });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
  });
  request.end();
  return { response, abort: () => request.destroy() };
}

/** The body as sent by the hub: decoded when an intermediary compressed it. */
function decoded(response: IncomingMessage): Readable {
  const encoding = (response.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return response.pipe(createGunzip());
  if (encoding === 'deflate') return response.pipe(createInflate());
  if (encoding === 'br') return response.pipe(createBrotliDecompress());
  return response;
}

function flatHeaders(response: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

/** Reads `GET /diagnostics/probe` as a browser would ask for it, timing every arrival. */
export async function observeProbe(options: ObserveOptions): Promise<ProbeObservation> {
  const lastEventIdSent = `doctor-${randomBytes(6).toString('hex')}`;
  const headers: Record<string, string> = {
    Accept: 'text/event-stream',
    'Cache-Control': 'no-cache',
    // What browsers offer: an intermediary that compresses streams does it here too.
    'Accept-Encoding': 'gzip, deflate, br',
    'Last-Event-ID': lastEventIdSent,
  };
  if (options.origin !== undefined) headers.Origin = options.origin;
  const origin = options.origin;
  const base = { lastEventIdSent, ...(origin === undefined ? {} : { origin }) };
  const started = performance.now();
  const { response: answer, abort } = open(hubUrl(options.url, 'diagnostics/probe'), headers);
  const limit = setTimeout(abort, PROBE_LIMIT_MS);
  const reader = new ProbeReader();
  let firstByteMs: number | undefined;
  let response: IncomingMessage;
  try {
    response = await answer;
  } catch (error) {
    clearTimeout(limit);
    return { ...base, error: message(error), events: [], ended: false };
  }
  const ended = await new Promise<boolean>((resolve) => {
    response.once('data', () => (firstByteMs ??= performance.now() - started));
    const body = decoded(response);
    body.setEncoding('utf8');
    body.on('data', (text: string) => reader.push(text, performance.now() - started));
    body.once('end', () => resolve(true));
    body.once('error', () => resolve(false));
    // A cut connection; a complete one resolves at the (decoded) body's end, after its last event.
    response.once('close', () => {
      if (!response.complete) resolve(false);
    });
  });
  clearTimeout(limit);
  return {
    ...base,
    status: response.statusCode ?? 0,
    headers: flatHeaders(response),
    ...(firstByteMs === undefined ? {} : { firstByteMs }),
    events: reader.events,
    ended,
  };
}

/** Holds a stream of a random (so silent) channel open for `seconds`, counting heartbeats. */
export async function observeIdle(url: string, seconds: number): Promise<IdleObservation> {
  const channel = `doctor-idle-${randomBytes(6).toString('hex')}`;
  const started = performance.now();
  const { response: answer, abort } = open(hubUrl(url, `channels/${channel}/stream`), { Accept: 'text/event-stream', 'Cache-Control': 'no-cache' });
  const heldMs = (): number => Math.min(seconds * 1000, performance.now() - started);
  let response: IncomingMessage;
  try {
    response = await answer;
  } catch (error) {
    return { seconds, error: message(error), heldMs: heldMs(), survived: false, heartbeats: 0 };
  }
  const status = response.statusCode ?? 0;
  if (status !== 200) {
    response.resume();
    return { seconds, status, heldMs: heldMs(), survived: false, heartbeats: 0 };
  }
  const reader = new ProbeReader();
  const outcome = await new Promise<{ survived: boolean; error?: string }>((resolve) => {
    const timer = setTimeout(() => resolve({ survived: true }), Math.max(0, seconds * 1000 - (performance.now() - started)));
    const cut = (error?: string): void => {
      clearTimeout(timer);
      resolve(error === undefined ? { survived: false } : { survived: false, error });
    };
    const body = decoded(response);
    body.setEncoding('utf8');
    body.on('data', (text: string) => reader.push(text, 0));
    body.once('end', () => cut('the connection was closed'));
    body.once('error', (error) => cut(message(error)));
    response.once('close', () => cut('the connection was closed'));
  });
  const held = heldMs();
  abort();
  return { seconds, status, heldMs: held, heartbeats: reader.comments, ...outcome };
}

/** Everything the doctor command looks at; the idle stream is held while the probe runs. */
export async function observe(options: ObserveOptions): Promise<Observations> {
  const idle = options.idleSeconds === undefined ? undefined : observeIdle(options.url, options.idleSeconds);
  const probe = await observeProbe(options);
  return { url: options.url, probe, ...(idle === undefined ? {} : { idle: await idle }) };
}

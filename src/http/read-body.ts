import type { IncomingMessage, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import { AppError } from '../errors';

/**
 * After an answer that did not take the whole body (413, 401, 404…), the rest is read and
 * discarded up to this many bytes, so a client that writes its body before reading gets the
 * answer instead of a connection reset (closing a socket with unread input sends RST).
 */
export const DISCARD_LIMIT_BYTES = 8 * 1024 * 1024;

/** Past the body deadline, a connection still sending an unread body gets this long before it is cut. */
const CUT_GRACE_MS = 1000;

/** When each request's body must have arrived completely (set by setBodyDeadline at dispatch). */
const bodyDeadlines = new WeakMap<IncomingMessage, number>();

/**
 * Gives the request's body, if it has one, a deadline `timeoutMs` from now: readBody answers 408
 * `request_timeout` past it. Called once per request where it is dispatched (the request
 * listener), so every route's body has it whenever and however it is read. Only a time is
 * stored: a timer is started only when a read has to wait for the body (a small body has
 * usually arrived with the headers). After the answer the rest of an unread body is read and
 * discarded, up to DISCARD_LIMIT_BYTES and the deadline (plus a grace), then the connection is
 * cut. Requests without a body (every stream) are not affected.
 */
export function setBodyDeadline(req: IncomingMessage, res: ServerResponse, timeoutMs: number): void {
  if (!hasBody(req)) return;
  const deadline = Date.now() + timeoutMs;
  bodyDeadlines.set(req, deadline);
  res.once('finish', () => {
    if (req.complete || req.destroyed) return;
    let discarded = 0;
    const cut = setTimeout(() => req.socket.destroy(), Math.max(0, deadline - Date.now()) + CUT_GRACE_MS);
    cut.unref();
    const stop = (): void => clearTimeout(cut);
    req.once('end', stop);
    req.once('close', stop);
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > DISCARD_LIMIT_BYTES) req.socket.destroy();
    });
    // raw-body pauses a body it stopped reading at the limit; without this the client would
    // block writing and never read the 413.
    req.resume();
  });
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export type BodyKind = 'json' | 'form';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A request body, decoded. `json` is whatever JSON value was sent, with its text. */
export type ParsedBody = { kind: 'json'; value: unknown; text: string } | { kind: 'form'; value: URLSearchParams };

/**
 * Reads the body of a POST whose type is one of `accepted`, at most `limitBytes` (inclusive),
 * also when sent chunked. Throws 415 `unsupported_media_type`, 413 `payload_too_large`,
 * 400 `invalid_json` (not JSON or not UTF-8) or 400 `invalid_body` (a form that is not UTF-8).
 */
export async function readBody(req: IncomingMessage, res: ServerResponse, accepted: readonly BodyKind[], limitBytes: number): Promise<ParsedBody> {
  // The declared type, not Koa's ctx.is(): that answers null for a POST without a body, which
  // would turn "no body" into "wrong Content-Type".
  const mediaType = declaredMediaType(req);
  const kind = accepted.find((candidate) => mediaType === (candidate === 'json' ? 'application/json' : 'application/x-www-form-urlencoded'));
  if (!kind) {
    const allowed = accepted.map((candidate) => (candidate === 'json' ? 'application/json' : 'application/x-www-form-urlencoded'));
    throw new AppError('unsupported_media_type', `Content-Type must be ${allowed.join(' or ')}`);
  }
  const raw = await readRaw(req, res, limitBytes);
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new AppError(kind === 'json' ? 'invalid_json' : 'invalid_body', 'the body is not valid UTF-8');
  }
  if (kind === 'form') return { kind, value: new URLSearchParams(text) };
  try {
    return { kind, value: JSON.parse(text) as unknown, text };
  } catch {
    throw new AppError('invalid_json', 'the body is not valid JSON');
  }
}

/** The Content-Type without parameters, lower-cased ('' without one). */
function declaredMediaType(req: IncomingMessage): string {
  const type = req.headers['content-type'];
  return type === undefined ? '' : (type.split(';')[0] as string).trim().toLowerCase();
}

/** The Content-Length as Koa reads it (`~~`: a malformed value is 0), undefined without one. */
function declaredLength(req: IncomingMessage): number | undefined {
  const length = req.headers['content-length'];
  return length === undefined || length === '' ? undefined : ~~length;
}

async function readRaw(req: IncomingMessage, res: ServerResponse, limitBytes: number): Promise<Buffer> {
  const declared = declaredLength(req);
  const deadline = bodyDeadlines.get(req);
  if (declared !== undefined && declared > limitBytes) {
    await discardRest(req, res, deadline);
    throw payloadTooLarge(limitBytes);
  }
  // The whole body is buffered already (the common case: it came with the headers): take it
  // as it is, without a read's listeners, promise and timer. Node marks the request complete
  // only a turn later, so a buffered Content-Length's worth of bytes counts as whole too.
  if (req.readableFlowing === null && (req.complete || (declared !== undefined && req.readableLength === declared && req.headers['transfer-encoding'] === undefined))) {
    if (req.readableLength > limitBytes) throw payloadTooLarge(limitBytes);
    const body = (req.read() as Buffer | null) ?? Buffer.alloc(0);
    // Not yet marked complete: let the end of the body flow, so the request still ends ('end', 'close').
    if (!req.complete) req.resume();
    return body;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const reading = getRawBody(req, { limit: limitBytes, length: declared });
    if (deadline === undefined) return await reading;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(requestTimeout()), Math.max(0, deadline - Date.now()));
    });
    // The abandoned read ends with the connection (closed after the 408, see below).
    reading.catch(() => undefined);
    return await Promise.race([reading, timedOut]);
  } catch (error) {
    if (error instanceof AppError) {
      // Nothing more of this body is wanted: close the connection once the 408 is out.
      res.setHeader('Connection', 'close');
      throw error;
    }
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') {
      await discardRest(req, res, deadline);
      throw payloadTooLarge(limitBytes);
    }
    if (type === 'request.aborted') throw new AppError('request_aborted', 'the client aborted the request');
    throw new AppError('invalid_body', 'the request body could not be read');
  } finally {
    clearTimeout(timer);
  }
}

function requestTimeout(): AppError {
  return new AppError('request_timeout', 'the request body did not arrive in time (BODY_TIMEOUT_MS)');
}

/**
 * Reads and drops the rest of a body that will be refused, up to DISCARD_LIMIT_BYTES and the
 * body deadline, before the answer goes out: a socket closed with unread input (the client asked
 * for `Connection: close`, or the body is too big to drain) sends RST, and a client still writing
 * its body would get EPIPE / ECONNRESET instead of the 413. Past either bound the connection is
 * closed after the answer.
 */
function discardRest(req: IncomingMessage, res: ServerResponse, deadline: number | undefined): Promise<void> {
  const declared = declaredLength(req);
  if (req.complete || (declared !== undefined && declared > DISCARD_LIMIT_BYTES)) {
    if (!req.complete) res.setHeader('Connection', 'close');
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    let discarded = 0;
    const timer = deadline === undefined ? undefined : setTimeout(() => stop(false), Math.max(0, deadline - Date.now()));
    const onData = (chunk: Buffer): void => {
      discarded += chunk.length;
      if (discarded > DISCARD_LIMIT_BYTES) stop(false);
    };
    const onEnd = (): void => stop(true);
    function stop(complete: boolean): void {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onEnd);
      if (!complete) {
        req.pause();
        res.setHeader('Connection', 'close');
      }
      resolve();
    }
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onEnd);
    // raw-body pauses a body it stopped reading at the limit.
    req.resume();
  });
}

function payloadTooLarge(limitBytes: number): AppError {
  return new AppError('payload_too_large', `the body is larger than ${limitBytes} bytes (MAX_EVENT_BYTES, or the channel's namespace maxEventBytes)`);
}

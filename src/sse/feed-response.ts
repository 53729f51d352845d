import type { ServerResponse } from 'node:http';
import type { PassThrough } from 'node:stream';

const RESPONSE = Symbol('the response this stream feeds');
const BODY = Symbol('the stream feeding this response');
const DIRECT = Symbol('the response, while this stream holds nothing and the socket takes more');

type FeedingStream = PassThrough & { [RESPONSE]: ServerResponse; [DIRECT]: ServerResponse | undefined };
type FedResponse = ServerResponse & { [BODY]: FeedingStream };

/**
 * Writes everything `stream` produces to `res`, pausing `stream` while the socket is full (so
 * what a slow client has not taken stays in `stream`, where the hub measures it), ends `res` when
 * `stream` ends, and destroys `stream` when `res` closes.
 *
 * Like stream.pipe() for a body that never ends by itself, without its ten closures and
 * once-wrappers per stream: the listeners below are shared by every stream (an emitter calls a
 * listener with itself as `this`), and each side holds the other in one property.
 */
export function feedResponse(stream: PassThrough, res: ServerResponse): void {
  const feeding = stream as FeedingStream;
  feeding[RESPONSE] = res;
  feeding[DIRECT] = stream.readableLength === 0 ? res : undefined;
  (res as FedResponse)[BODY] = feeding;
  stream.on('data', forwardChunk);
  stream.on('end', endResponse);
  // 'close' comes once: on() spares the wrapper once() would keep for the stream's life.
  res.on('close', destroyBody);
}

/**
 * Writes `chunk` straight to the response `stream` feeds, if `stream` holds nothing and the
 * socket takes more; returns false (nothing written) otherwise, and the caller writes to
 * `stream`, where chunks queue in order. Passing through the PassThrough would cost a Writable
 * write, a Readable push and a 'data' event per stream per event, for bytes it hands on at once.
 */
export function sendDirect(stream: PassThrough, chunk: Buffer): boolean {
  const res = (stream as Partial<FeedingStream>)[DIRECT];
  if (res === undefined) return false;
  if (!res.write(chunk)) pauseUntilDrained(stream as FeedingStream, res);
  return true;
}

function forwardChunk(this: FeedingStream, chunk: Buffer): void {
  const res = this[RESPONSE];
  if (!res.write(chunk)) {
    pauseUntilDrained(this, res);
    return;
  }
  // The queue is empty again: the next chunks can skip it.
  if (this.readableLength === 0 && this.writableLength === 0 && !this.writableEnded) this[DIRECT] = res;
}

function pauseUntilDrained(stream: FeedingStream, res: ServerResponse): void {
  stream[DIRECT] = undefined;
  stream.pause();
  res.once('drain', resumeBody);
}

function resumeBody(this: FedResponse): void {
  const stream = this[BODY];
  stream.resume();
  // Nothing was queued while the socket was full: the next chunks can skip the queue again
  // (forwardChunk, which otherwise does this, only runs for queued chunks).
  if (stream.readableLength === 0 && stream.writableLength === 0 && !stream.writableEnded) stream[DIRECT] = this;
}

function endResponse(this: FeedingStream): void {
  this[DIRECT] = undefined;
  this[RESPONSE].end();
}

function destroyBody(this: FedResponse): void {
  this[BODY][DIRECT] = undefined;
  this[BODY].destroy();
}

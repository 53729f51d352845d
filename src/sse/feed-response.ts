import type { ServerResponse } from 'node:http';
import type { PassThrough } from 'node:stream';

const RESPONSE = Symbol('the response this stream feeds');
const BODY = Symbol('the stream feeding this response');

type FeedingStream = PassThrough & { [RESPONSE]: ServerResponse };
type FedResponse = ServerResponse & { [BODY]: PassThrough };

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
  (stream as FeedingStream)[RESPONSE] = res;
  (res as FedResponse)[BODY] = stream;
  stream.on('data', forwardChunk);
  stream.on('end', endResponse);
  // 'close' comes once: on() spares the wrapper once() would keep for the stream's life.
  res.on('close', destroyBody);
}

function forwardChunk(this: FeedingStream, chunk: Buffer): void {
  const res = this[RESPONSE];
  if (res.write(chunk)) return;
  this.pause();
  res.once('drain', resumeBody);
}

function resumeBody(this: FedResponse): void {
  this[BODY].resume();
}

function endResponse(this: FeedingStream): void {
  this[RESPONSE].end();
}

function destroyBody(this: FedResponse): void {
  this[BODY].destroy();
}

import type { IncomingMessage, ServerResponse } from 'node:http';

/** What on-finished leaves on a response: its listener and the callbacks queued on it. */
interface OnFinishedState {
  __onFinished?: { queue?: unknown[] | null } | null;
}

/**
 * Drops what the request phase left attached to a response that has become an open event
 * stream, and that the stream no longer needs.
 *
 * Koa watches every response with on-finished, only to hand an error of the response to
 * `ctx.onerror`; once the headers are sent that reports the error to the app, which is silent,
 * and does nothing else. Until the client leaves, on-finished would hold the whole Koa context
 * (request, response, router state) and four listeners with their closures (ee-first's `onevent`,
 * one each for the response's `end` and `finish` and the socket's `error` and `close`): about
 * 3.4 KB per open stream. The stream's own `close` handling (openEventStream) is what ends it.
 *
 * Only memory depends on this: if on-finished or ee-first change shape, nothing is removed.
 */
export function releaseRequestState(req: IncomingMessage, res: ServerResponse): void {
  const state = res as ServerResponse & OnFinishedState;
  const finished = state.__onFinished;
  if (Array.isArray(finished?.queue)) finished.queue.length = 0;
  if (finished !== undefined) state.__onFinished = null;
  removeNamedListeners(res, 'end', WATCHER);
  removeNamedListeners(res, 'finish', WATCHER);
  removeNamedListeners(req.socket, 'error', WATCHER);
  removeNamedListeners(req.socket, 'close', WATCHER);
  // parseurl's cached Url of the request (ctx.path parses again if it is ever asked for).
  (req as IncomingMessage & { _parsedUrl?: unknown })._parsedUrl = undefined;
}

/** The name ee-first gives every listener it adds for on-finished. */
const WATCHER = 'onevent';

function removeNamedListeners(emitter: NodeJS.EventEmitter, event: string, name: string): void {
  for (const listener of emitter.listeners(event)) {
    if (listener.name === name) emitter.removeListener(event, listener as (...args: unknown[]) => void);
  }
}

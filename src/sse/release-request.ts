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
  // A stream served without Koa (request-listener.ts) was never watched: nothing to remove.
  if (finished !== undefined) {
    if (Array.isArray(finished?.queue)) finished.queue.length = 0;
    state.__onFinished = null;
    removeNamedListeners(res, 'end', WATCHER);
    removeNamedListeners(res, 'finish', WATCHER);
    removeNamedListeners(req.socket, 'error', WATCHER);
    removeNamedListeners(req.socket, 'close', WATCHER);
    // parseurl's cached Url of the request (ctx.path parses again if it is ever asked for).
    (req as IncomingMessage & { _parsedUrl?: unknown })._parsedUrl = undefined;
  }
  compactSentHeaders(res);
}

/**
 * Once the head is serialized (writeHead), a response keeps two copies of its headers for life:
 * the head as a tree of about ten concatenated strings (`_header`), and, because Koa set `Vary`
 * before writeHead, the header map (a dictionary-mode object and a `[name, value]` array per
 * header). Reading one character makes V8 flatten the tree into one string in place, and the
 * map goes back to null, its value before any header was set (Node checks for null wherever it
 * reads it; after writeHead only getHeader() and friends do, and nothing of ours calls them on an
 * open stream). About 1.3 KB per open stream.
 */
function compactSentHeaders(res: ServerResponse): void {
  const head = (res as ServerResponse & { _header?: unknown })._header;
  // The character is checked so that the read cannot be optimized away.
  if (typeof head !== 'string' || head.charCodeAt(0) !== HEAD_START) return;
  outHeaders ??= Object.getOwnPropertySymbols(res).find((symbol) => symbol.description === 'kOutHeaders');
  if (outHeaders !== undefined && res.headersSent) (res as unknown as Record<symbol, unknown>)[outHeaders] = null;
}

/** Node's private symbol for a response's header map, found once on the first open stream. */
let outHeaders: symbol | undefined;

/** `H`, of `HTTP/1.1`. */
const HEAD_START = 0x48;

/** The name ee-first gives every listener it adds for on-finished. */
const WATCHER = 'onevent';

function removeNamedListeners(emitter: NodeJS.EventEmitter, event: string, name: string): void {
  for (const listener of emitter.listeners(event)) {
    if (listener.name === name) emitter.removeListener(event, listener as (...args: unknown[]) => void);
  }
}

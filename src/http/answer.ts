import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AuthUnavailableError } from '../access/auth-hook';
import { describeError, errorBody } from '../errors';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Answers `status` with a JSON text on Node's response (the routes served without Koa). */
export function sendJson(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', JSON_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * Answers `error` as the Koa error boundary (middleware/errors.ts) does, for a request served
 * without Koa: `{"error":{"code","message"}}` with its status; anything but an AppError or an
 * exposed 4xx is a 500 without details, logged. Once the response has started, the connection is
 * cut (the answer can no longer be given).
 */
export function answerError(req: IncomingMessage, res: ServerResponse, error: unknown, logger: Logger): void {
  const described = describeError(error);
  const status = described.status;
  // The hook's failures are logged by the hook itself, once per kind per minute.
  if (status >= 500 && !(error instanceof AuthUnavailableError)) {
    logger.error({ err: error, method: req.method, path: req.url?.split('?')[0] }, 'request failed');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, JSON.stringify(errorBody(described)));
}

import { ERROR_STATUS, statusOf, type ErrorCode } from './error-codes';

/**
 * The arguments of the first AppError form, `(status, code, message)`, kept so code written
 * before the registry compiles; the status must be the registry's for that code (checked by
 * the type) and is taken from the registry. New code passes `(code, message)`.
 */
type StatusFirstArgs = { [C in ErrorCode]: [status: (typeof ERROR_STATUS)[C], code: C, message: string] }[ErrorCode];

/**
 * An error the client caused or may act on, built from a registry code (src/error-codes.ts),
 * which gives its status. The error middleware turns it into `{"error":{"code","message"}}`
 * with `status`; anything else becomes a logged 500.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;

  constructor(...args: [code: ErrorCode, message: string] | StatusFirstArgs) {
    const [code, message] = args.length === 2 ? args : [args[1], args[2]];
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = statusOf(code);
  }
}

/** The broker cannot serve the request now; nothing was stored or published. Answered 503. */
export class BrokerUnavailableError extends AppError {
  constructor(message = 'the event broker is unavailable; retry later') {
    super('broker_unavailable', message);
    this.name = 'BrokerUnavailableError';
  }
}

/** A start-up setting is malformed; the message names the variable. The process exits 1. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

interface HttpLikeError {
  status?: unknown;
  expose?: unknown;
  message?: unknown;
}

/**
 * What the client is told about `error`: an AppError as it is, an exposed 4xx of Koa's as
 * `bad_request` (with Koa's status), anything else as a 500 without details (logged by the caller).
 */
export function describeError(error: unknown): { status: number; code: ErrorCode; message: string } {
  if (error instanceof AppError) return { status: error.status, code: error.code, message: error.message };
  const httpError = error as HttpLikeError;
  if (typeof httpError.status === 'number' && httpError.status < 500 && httpError.expose === true) {
    return { status: httpError.status, code: 'bad_request', message: String(httpError.message) };
  }
  return { status: statusOf('internal_error'), code: 'internal_error', message: 'internal server error' };
}

import { statusOf, type ErrorCode } from './error-codes';

/**
 * An error the client caused or may act on, built from a registry code (src/error-codes.ts),
 * which gives its status. The error middleware turns it into `{"error":{"code","message"}}`
 * with `status`; anything else becomes a logged 500.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  /** Written as the error object's `details` when set (400 `invalid_data`: what the schema refused). */
  details: readonly ErrorDetail[] | undefined;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = statusOf(code);
  }

  /** An AppError carrying `details` (the error body's `"details"` list). */
  static withDetails(code: ErrorCode, message: string, details: readonly ErrorDetail[] | undefined): AppError {
    const error = new AppError(code, message);
    error.details = details;
    return error;
  }
}

/** One entry of an error's `details`: where (a JSON pointer into the data) and what. */
export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
}

/** The JSON error body: `{"error":{"code","message"}}`, plus `details` when the error has them. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly details?: readonly ErrorDetail[] };
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
export function describeError(error: unknown): { status: number; code: ErrorCode; message: string; details?: readonly ErrorDetail[] } {
  if (error instanceof AppError) {
    const described = { status: error.status, code: error.code, message: error.message };
    return error.details === undefined ? described : { ...described, details: error.details };
  }
  const httpError = error as HttpLikeError;
  if (typeof httpError.status === 'number' && httpError.status < 500 && httpError.expose === true) {
    return { status: httpError.status, code: 'bad_request', message: String(httpError.message) };
  }
  return { status: statusOf('internal_error'), code: 'internal_error', message: 'internal server error' };
}

/** The body that answers `error` as describeError describes it. */
export function errorBody(described: { code: ErrorCode; message: string; details?: readonly ErrorDetail[] }): ErrorBody {
  const { code, message, details } = described;
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/**
 * An error the client caused or may act on. The error middleware turns it into
 * `{"error":{"code","message"}}` with `status`; anything else becomes a logged 500.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** The broker cannot serve the request now; nothing was stored or published. Answered 503. */
export class BrokerUnavailableError extends AppError {
  constructor(message = 'the event broker is unavailable; retry later') {
    super(503, 'broker_unavailable', message);
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
 * `bad_request`, anything else as a 500 without details (logged by the caller).
 */
export function describeError(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof AppError) return { status: error.status, code: error.code, message: error.message };
  const httpError = error as HttpLikeError;
  if (typeof httpError.status === 'number' && httpError.status < 500 && httpError.expose === true) {
    return { status: httpError.status, code: 'bad_request', message: String(httpError.message) };
  }
  return { status: 500, code: 'internal_error', message: 'internal server error' };
}

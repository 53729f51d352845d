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

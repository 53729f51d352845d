/**
 * Typed failures. Every error the client throws or reports is an `SseHubError` with the HTTP
 * `status` (0 when no response came) and the hub's JSON error `code` (or a client-side one).
 */
export class SseHubError extends Error {
  override readonly name: string = 'SseHubError';

  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 401: no credential where one is needed, or one that is invalid or expired (after one renewal). */
export class UnauthorizedError extends SseHubError {
  override readonly name = 'UnauthorizedError';
}

/** 403: a valid credential without the grant; the message names the channel. */
export class ForbiddenError extends SseHubError {
  override readonly name = 'ForbiddenError';
}

/** Any other answer that retrying cannot change (400, 404, 413, 415, …). */
export class RequestError extends SseHubError {
  override readonly name = 'RequestError';
}

/** A publish whose retries were used up on network errors, timeouts or 5xx answers. */
export class UnavailableError extends SseHubError {
  override readonly name = 'UnavailableError';
}

/** An event whose data the configured Standard Schema validator refused (code `invalid_data`). */
export class ValidationError extends SseHubError {
  override readonly name = 'ValidationError';

  constructor(
    message: string,
    readonly channel: string,
    readonly id: string | null,
    readonly issues: ReadonlyArray<{ readonly message: string }>,
  ) {
    super(message, 0, 'invalid_data');
  }
}

/**
 * The hub ended the stream with `hub.disconnect` and `reconnect: false` (code `disconnected`):
 * the subscription is over; `reason` is the hub's text.
 */
export class DisconnectedError extends SseHubError {
  override readonly name = 'DisconnectedError';

  constructor(readonly reason: string) {
    super(`disconnected by the hub: ${reason}`, 0, 'disconnected');
  }
}

/** The work was stopped by `close()` or by the caller's AbortSignal (code `aborted`). */
export class AbortedError extends SseHubError {
  override readonly name = 'AbortedError';

  constructor(message = 'aborted', options?: { cause?: unknown }) {
    super(message, 0, 'aborted', options);
  }
}

/**
 * The typed error for a non-2xx `response`, reading the hub's `{"error":{"code","message"}}`
 * body when there is one. Consumes the body.
 */
export async function errorFromResponse(response: Response, what: string): Promise<SseHubError> {
  let code = `http_${response.status}`;
  let message = `${what}: HTTP ${response.status}`;
  try {
    const body = (await response.json()) as unknown;
    const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
    if (typeof error?.code === 'string') code = error.code;
    if (typeof error?.message === 'string') message = `${what}: ${error.message} (${response.status} ${code})`;
  } catch {
    // Not JSON (a proxy's page, an empty body): the status says enough.
  }
  if (response.status === 401) return new UnauthorizedError(message, 401, code);
  if (response.status === 403) return new ForbiddenError(message, 403, code);
  if (response.status >= 500) return new UnavailableError(message, response.status, code);
  return new RequestError(message, response.status, code);
}

/** True for statuses worth retrying: 408, 429 and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

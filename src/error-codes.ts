/**
 * Every error code the server answers with, and its HTTP status: the one source of both. An
 * AppError is built from a code and takes its status from here; README.md's error list is held
 * against this table by test/unit/reference-data.test.ts.
 */
export const ERROR_STATUS = Object.freeze({
  invalid_json: 400,
  invalid_event: 400,
  invalid_body: 400,
  invalid_channel: 400,
  too_many_channels: 400,
  invalid_idempotency_key: 400,
  invalid_last_event_id: 400,
  invalid_query: 400,
  invalid_data: 400,
  unknown_event: 400,
  invalid_name: 400,
  invalid_message: 400,
  request_aborted: 400,
  // Koa's own exposed client errors (a malformed request); the status is Koa's, 400 the usual.
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  cross_site: 403,
  not_found: 404,
  presence_disabled: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  too_many_requests: 429,
  internal_error: 500,
  not_implemented: 501,
  broker_unavailable: 503,
  auth_unavailable: 503,
} as const);

/** A code of the registry. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** The status a code is answered with. */
export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

/** True for a string that is a registry code. */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_STATUS, value);
}

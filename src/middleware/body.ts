import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { AppError } from '../errors';

export type BodyKind = 'json' | 'form';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A request body, decoded. `json` is whatever JSON value was sent, with its text. */
export type ParsedBody = { kind: 'json'; value: unknown; text: string } | { kind: 'form'; value: URLSearchParams };

/**
 * Reads the body of a POST whose type is one of `accepted`, at most `limitBytes` (inclusive),
 * also when sent chunked. Throws 415 `unsupported_media_type`, 413 `payload_too_large`,
 * 400 `invalid_json` (not JSON or not UTF-8) or 400 `invalid_body` (a form that is not UTF-8).
 */
export async function readBody(ctx: Context, accepted: readonly BodyKind[], limitBytes: number): Promise<ParsedBody> {
  // The declared type, not ctx.is(): that answers null for a POST without a body, which would
  // turn "no body" into "wrong Content-Type".
  const mediaType = ctx.request.type.trim().toLowerCase();
  const kind = accepted.find((candidate) => mediaType === (candidate === 'json' ? 'application/json' : 'application/x-www-form-urlencoded'));
  if (!kind) {
    const allowed = accepted.map((candidate) => (candidate === 'json' ? 'application/json' : 'application/x-www-form-urlencoded'));
    throw new AppError(415, 'unsupported_media_type', `Content-Type must be ${allowed.join(' or ')}`);
  }
  const raw = await readRaw(ctx, limitBytes);
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new AppError(400, kind === 'json' ? 'invalid_json' : 'invalid_body', 'the body is not valid UTF-8');
  }
  if (kind === 'form') return { kind, value: new URLSearchParams(text) };
  try {
    return { kind, value: JSON.parse(text) as unknown, text };
  } catch {
    throw new AppError(400, 'invalid_json', 'the body is not valid JSON');
  }
}

async function readRaw(ctx: Context, limitBytes: number): Promise<Buffer> {
  const declared = ctx.request.length;
  if (declared !== undefined && declared > limitBytes) {
    throw payloadTooLarge(limitBytes);
  }
  try {
    return await getRawBody(ctx.req, { limit: limitBytes, length: declared });
  } catch (error) {
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') throw payloadTooLarge(limitBytes);
    if (type === 'request.aborted') throw new AppError(400, 'request_aborted', 'the client aborted the request');
    throw new AppError(400, 'invalid_body', 'the request body could not be read');
  }
}

function payloadTooLarge(limitBytes: number): AppError {
  return new AppError(413, 'payload_too_large', `the body is larger than MAX_EVENT_BYTES (${limitBytes} bytes)`);
}

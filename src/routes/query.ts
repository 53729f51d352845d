import type { RequestQuery } from '../access/read-request';
import type { ErrorCode } from '../error-codes';
import { AppError } from '../errors';

/** A query parameter given at most once; a repeated one is a 400 with `errorCode`. */
export function singleQueryValue(query: RequestQuery, name: string, errorCode: ErrorCode): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new AppError(errorCode, `give "${name}" at most once`);
  return value;
}

/** A stream's resume point as given: the `Last-Event-ID` header, else `lastEventId` (at most once). */
export function requestedLastEventId(header: string, query: RequestQuery): string | undefined {
  return header || singleQueryValue(query, 'lastEventId', 'invalid_last_event_id');
}

/**
 * The query string read as Koa's `ctx.query` reads it (parseurl, then URLSearchParams): up to a
 * `#`, a leading `?` dropped, a repeated name as an array. For requests served without Koa.
 */
export function queryOf(url: string): RequestQuery {
  const start = url.indexOf('?');
  if (start === -1) return {};
  const end = url.indexOf('#', start);
  const params = new URLSearchParams(url.slice(start + 1, end === -1 ? undefined : end));
  const query: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const name of params.keys()) {
    const values = params.getAll(name);
    query[name] = values.length === 1 ? (values[0] as string) : values;
  }
  return query;
}

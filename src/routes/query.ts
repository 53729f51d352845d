import type { Context } from 'koa';
import type { ErrorCode } from '../error-codes';
import { AppError } from '../errors';

/** A query parameter given at most once; a repeated one is a 400 with `errorCode`. */
export function singleQueryValue(ctx: Context, name: string, errorCode: ErrorCode): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw new AppError(errorCode, `give "${name}" at most once`);
  return value;
}

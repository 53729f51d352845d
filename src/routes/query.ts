import type { Context } from 'koa';
import { AppError } from '../errors';

/** A query parameter given at most once; a repeated one is a 400 with `errorCode`. */
export function singleQueryValue(ctx: Context, name: string, errorCode: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw new AppError(400, errorCode, `give "${name}" at most once`);
  return value;
}

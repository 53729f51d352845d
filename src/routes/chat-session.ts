import type { Context } from 'koa';

/**
 * The chat session's name on a request that went through the session middleware, else null
 * (no session, no name, or a request the session middleware skipped). Reads only; never throws.
 */
export function chatSessionName(ctx: Context): string | null {
  const session = (ctx as { session?: { name?: unknown } | null }).session;
  return typeof session?.name === 'string' ? session.name : null;
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Access } from '../access/access';
import type { EventBroker } from '../broker/broker';
import { AppError } from '../errors';
import type { Metrics } from '../metrics';
import { readBody } from '../http/read-body';
import { validateEvent, type Namespaces } from '../namespaces';
import { koaReadRequest } from '../access/read-request';

export interface ChatRoutesOptions {
  readonly broker: EventBroker;
  readonly metrics: Metrics;
  /** Judges `/post` when `chat` is not public; a credential's `sub` names the author. */
  readonly access: Access;
  readonly maxEventBytes: number;
  /** The chat channel's namespace: its contract checks each post before anything is stored. */
  readonly namespaces: Namespaces;
  readonly viewsDir: string;
}

export const CHAT_CHANNEL = 'chat';
const MAX_NAME_CODE_POINTS = 32;
const MAX_MESSAGE_CODE_POINTS = 2000;

/** Only the page's own script and style; messages are rendered as text, never HTML. */
const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-cache',
});

const ASSETS: Readonly<Record<string, string>> = Object.freeze({
  '/': 'index.html',
  '/app.js': 'app.js',
  '/presence.js': 'presence.js',
  '/style.css': 'style.css',
});

/** Every path the chat serves: the only ones that read or write the session. */
export const CHAT_PATHS: ReadonlySet<string> = new Set([...Object.keys(ASSETS), '/me', '/login', '/logout', '/post']);

/**
 * True for a stream request that includes `chat`: it reads the session's name once at connect
 * (the chat's presence `sub`). Other streams skip the session's cookie work.
 */
export function isChatStream(ctx: Context): boolean {
  if (ctx.path === '/stream' || ctx.path === `/channels/${CHAT_CHANNEL}/stream`) return true;
  if (ctx.path !== '/streams') return false;
  const channels = ctx.query.channel;
  return Array.isArray(channels) ? channels.includes(CHAT_CHANNEL) : channels === CHAT_CHANNEL;
}

interface ChatSession {
  name?: string;
}

interface SessionContext {
  session: ChatSession | null;
  sessionOptions: { secure?: boolean };
}

function sessionOf(ctx: Context): SessionContext {
  return ctx as unknown as SessionContext;
}

export { chatSessionName } from './chat-session';

/** The chat: its page and assets, `/login`, `/logout`, `/post`, and `GET /me`. */
export function chatRoutes(router: Router, options: ChatRoutesOptions): void {
  for (const [path, file] of Object.entries(ASSETS)) {
    const content = readFileSync(join(options.viewsDir, file));
    router.get(path, (ctx) => {
      ctx.set(PAGE_SECURITY_HEADERS);
      ctx.type = file.slice(file.lastIndexOf('.'));
      ctx.body = content;
    });
  }

  router.get('/me', (ctx) => {
    ctx.body = { name: sessionOf(ctx).session?.name ?? null };
  });

  router.post('/login', sameOrigin, async (ctx) => {
    const body = await readBody(ctx.req, ctx.res, ['form', 'json'], options.maxEventBytes);
    const name = trimmedText(fieldOf(body, 'name'), MAX_NAME_CODE_POINTS);
    if (name === undefined) throw new AppError('invalid_name', `name must be 1-${MAX_NAME_CODE_POINTS} characters`);
    sessionOf(ctx).session = { name };
    if (body.kind === 'form') redirectHome(ctx);
    else ctx.body = { name };
  });

  router.post('/logout', sameOrigin, async (ctx) => {
    const hasBody = ctx.request.length !== undefined ? ctx.request.length > 0 : ctx.get('Transfer-Encoding') !== '';
    const kind = hasBody ? (await readBody(ctx.req, ctx.res, ['form', 'json'], options.maxEventBytes)).kind : ctx.request.type.toLowerCase() === 'application/json' ? 'json' : 'form';
    sessionOf(ctx).session = null;
    if (kind === 'form') redirectHome(ctx);
    else ctx.status = 204;
  });

  router.post('/post', sameOrigin, async (ctx) => {
    const body = await readBody(ctx.req, ctx.res, ['form', 'json'], options.maxEventBytes);
    const text = trimmedText(fieldOf(body, 'message'), MAX_MESSAGE_CODE_POINTS);
    if (text === undefined) {
      throw new AppError('invalid_message', `message must be 1-${MAX_MESSAGE_CODE_POINTS} characters`);
    }
    // Nothing is stored unless the poster may read the chat; a credential's sub wins over a picked name.
    const grant = await options.access.authorizeChatPost(koaReadRequest(ctx), CHAT_CHANNEL);
    const user = grant.sub ?? sessionOf(ctx).session?.name ?? 'anonymous';
    const data = { user, text, ts: new Date().toISOString() };
    const policy = options.namespaces.policy(CHAT_CHANNEL);
    const rejection = validateEvent(policy, 'message', data);
    if (rejection !== null) throw AppError.withDetails(rejection.code, rejection.message, rejection.details);
    const stopTimer = options.metrics.publishDuration.startTimer();
    const dataJson = JSON.stringify(data);
    if (policy.ephemeral) await options.broker.publishEphemeral(CHAT_CHANNEL, 'message', dataJson);
    const result = policy.ephemeral
      ? null
      : await options.broker.publish({ channel: CHAT_CHANNEL, event: 'message', dataJson, historySize: policy.historySize, historyTtlS: policy.historyTtlS });
    stopTimer();
    options.metrics.eventsPublished.inc();
    ctx.status = result === null ? 202 : 201;
    ctx.body = { id: result === null ? null : String(result.id) };
  });

}

/**
 * Refuses a cookie-authenticated POST sent from another site (403 `cross_site`). Requests without
 * `Origin` (curl, scripts) pass. Also marks the session cookie Secure when served over HTTPS.
 */
const sameOrigin: Middleware = async (ctx, next) => {
  const origin = ctx.get('Origin');
  // Koa 3's ctx.origin is the Origin header itself; the request's own origin is built here.
  if (origin !== '' && origin !== `${ctx.protocol}://${ctx.host}`) {
    throw new AppError('cross_site', 'cross-site requests are refused');
  }
  sessionOf(ctx).sessionOptions.secure = ctx.secure;
  await next();
};

/** 303 so the browser follows with a GET (a 302 may repeat the POST). */
function redirectHome(ctx: Context): void {
  ctx.status = 303;
  ctx.redirect('/');
}

function fieldOf(body: Awaited<ReturnType<typeof readBody>>, field: string): unknown {
  if (body.kind === 'form') return body.value.get(field) ?? undefined;
  const value = body.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return (value as Record<string, unknown>)[field];
}

/** The value trimmed, if it is a string of 1 to `maxCodePoints` code points with no control characters. */
function trimmedText(value: unknown, maxCodePoints: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  const length = [...text].length;
  if (length < 1 || length > maxCodePoints) return undefined;
  // Line breaks and tabs are fine in a message; other control characters are not text.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return undefined;
  return text;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import Cookies from 'cookies';
import type { Context } from 'koa';

/**
 * The request headers a bearer check reads and the challenge it sets: a Koa context, or the
 * Node request and response of a request served without Koa (a publish, a channel's stream).
 */
export interface HeaderAccess {
  get(field: string): string;
  set(field: string, value: string): void;
}

/** A request's query parameters as Koa's `ctx.query` has them: one value, or an array when repeated. */
export type RequestQuery = Readonly<Record<string, string | string[] | undefined>>;

/**
 * What a read's authorization looks at (API.md, "Who may read and publish"): the headers, the
 * `?ticket=` parameter, the `ssehub_token` cookie and the origin the request arrived at. Koa's
 * context answers it through koaReadRequest; a stream served straight from Node's request
 * (request-listener.ts) through NodeReadRequest, which reads the same things the same way.
 */
export interface ReadRequest extends HeaderAccess {
  /** `?ticket=` as the query string gave it: absent, once, or repeated. */
  ticket(): string | string[] | undefined;
  /** A cookie's value as sent (unsigned), undefined without one. */
  cookie(name: string): string | undefined;
  /** `scheme://host` of the request as it arrived (behind TRUST_PROXY: X-Forwarded-Proto / -Host). */
  ownOrigin(): string;
}

export function koaReadRequest(ctx: Context): ReadRequest {
  return {
    get: (field) => ctx.get(field),
    set: (field, value) => ctx.set(field, value),
    ticket: () => ctx.query.ticket,
    cookie: (name) => ctx.cookies.get(name, { signed: false }),
    ownOrigin: () => `${ctx.protocol}://${ctx.host}`,
  };
}

/** The headers of Node's request, read as Koa's `ctx.get` reads them; `set` on its response. */
export class NodeHeaders implements HeaderAccess {
  constructor(
    protected readonly req: IncomingMessage,
    protected readonly res: ServerResponse,
  ) {}

  get(field: string): string {
    const name = field.toLowerCase();
    const headers = this.req.headers;
    // Koa answers either spelling of the referrer with whichever the request sent.
    const value = name === 'referer' || name === 'referrer' ? (headers.referrer || headers.referer) : headers[name];
    return typeof value === 'string' ? value : '';
  }

  set(field: string, value: string): void {
    this.res.setHeader(field, value);
  }
}

/** A read on Node's request and response, answered as Koa (with `proxy` = TRUST_PROXY) would. */
export class NodeReadRequest extends NodeHeaders implements ReadRequest {
  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    private readonly query: RequestQuery,
    private readonly trustProxy: boolean,
  ) {
    super(req, res);
  }

  ticket(): string | string[] | undefined {
    return this.query.ticket;
  }

  cookie(name: string): string | undefined {
    if (this.req.headers.cookie === undefined) return undefined;
    // The parser Koa's ctx.cookies uses, so both paths read a cookie alike.
    return new Cookies(this.req, this.res).get(name, { signed: false });
  }

  ownOrigin(): string {
    return `${this.protocol()}://${this.host()}`;
  }

  // As Koa 3's request.protocol and request.host.
  private protocol(): string {
    if ((this.req.socket as { encrypted?: boolean }).encrypted === true) return 'https';
    if (!this.trustProxy) return 'http';
    const forwarded = this.get('X-Forwarded-Proto');
    return forwarded === '' ? 'http' : firstValue(forwarded).toLowerCase();
  }

  private host(): string {
    const given = (this.trustProxy && this.get('X-Forwarded-Host')) || this.get('Host');
    if (given === '') return '';
    const host = firstValue(given);
    if (!host.includes('@')) return host;
    // A Host with userinfo ("user@host") is invalid (RFC 7230): only the host part counts.
    try {
      return new URL(`http://${host}`).host;
    } catch {
      return '';
    }
  }
}

function firstValue(list: string): string {
  return (list.split(',', 1)[0] as string).trim();
}

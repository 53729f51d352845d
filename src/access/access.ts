import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { ADMIN_PUBLISHER, SHARED_PUBLISHER, subjectPublisher } from '../broker/idempotency';
import type { TicketStore } from '../broker/ticket-store';
import { AppError } from '../errors';
import type { StreamIdentity } from '../presence/tracker';
import { AuthHook } from './auth-hook';
import { bearerCredential, cookieCredential, readCredential, type Credential } from './credentials';
import type { JwtKey } from './jwt-key';
import { assertSameSiteRead, isSameSiteRead } from './origin';
import type { HeaderAccess, ReadRequest } from './read-request';
import type { PatternList } from './patterns';
import { Tickets } from './tickets';
import { InvalidTokenError, TokenVerifier, type AccessToken } from './tokens';

export type { HeaderAccess, ReadRequest } from './read-request';

/** Who opened a read: the credential's expiry, subject and presence info (all null without one). */
export interface ReadGrant {
  /** When the credential (token or ticket) ends, ms since the epoch; null when none was used. */
  readonly expiresAtMs: number | null;
  readonly sub: string | null;
  readonly info: Record<string, unknown> | null;
  /** The token's `iat` (ms) and `jti`, so a revocation can end the stream (null without them). */
  readonly issuedAtMs: number | null;
  readonly jti: string | null;
}

export interface AccessOptions {
  readonly broker: TicketStore;
  /** The access tokens' key; undefined = no access control (every channel public, no tickets). */
  readonly jwtKey: JwtKey | undefined;
  readonly jwtIssuer: string | undefined;
  readonly jwtAudience: string | undefined;
  readonly publicChannels: PatternList;
  /**
   * Whether a channel is public: its namespace's `public`, else PUBLIC_CHANNELS (the channel
   * policy, cached per channel). Absent: PUBLIC_CHANNELS alone.
   */
  readonly isPublic?: (channel: string) => boolean;
  readonly ticketTtlS: number;
  /** TICKETS_PER_MINUTE: tickets one `sub` (or sub-less token) may get per minute; default 60. */
  readonly ticketsPerMinute?: number;
  readonly publishToken: string | undefined;
  /** Origins allowed to read with the cookie or through the hook besides the request's own. */
  readonly corsOrigins?: readonly string[];
  /** AUTH_HOOK_URL; undefined = no hook. The other AUTH_HOOK_* settings come with it. */
  readonly authHookUrl?: string | undefined;
  readonly authHookHeaders?: readonly string[];
  readonly authHookTimeoutMs?: number;
  readonly authHookCacheS?: number;
  /** Where the hook's failures are reported (rate-limited); required with a hook. */
  readonly logger?: Logger;
  /** ADMIN_TOKEN: reads every channel and publishes, in the Authorization header only. */
  readonly adminToken?: string | undefined;
  /** True when a verified token has been revoked (a synchronous lookup: checked on every use). */
  readonly isRevoked?: (claims: RevocableClaims) => boolean;
}

/** What a revocation matches: the `sub`, `iat` and `jti` of a token (or of the grant it gave). */
export type RevocableClaims = Pick<AccessToken, 'sub' | 'issuedAtMs' | 'jti'>;

const ANONYMOUS: ReadGrant = Object.freeze({ expiresAtMs: null, sub: null, info: null, issuedAtMs: null, jti: null });

/**
 * Who a stream counts as in presence: the credential's `sub` and `info`; on `chat` the session's
 * name only when no credential gave a `sub` (a `sub` always wins over a name its holder picked).
 */
export function presenceIdentity(grant: ReadGrant, chatName: string | null): StreamIdentity {
  return { sub: grant.sub, info: grant.info, chatName: grant.sub === null ? chatName : null };
}

/**
 * Who may read and publish (API.md, "Who may read and publish"). Every check runs once per
 * request (a stream's at connect time), never per event. Refusals are AppErrors: 401
 * `unauthorized` with `WWW-Authenticate: Bearer` (plus `error="invalid_token"` when a credential
 * was given), 403 `forbidden` naming the channel.
 */
export class Access {
  private readonly verifier: TokenVerifier | undefined;
  private readonly tickets: Tickets;
  private readonly publishTokenDigest: Buffer | undefined;
  private readonly adminTokenDigest: Buffer | undefined;
  private readonly isPublic: (channel: string) => boolean;
  private readonly hook: AuthHook | undefined;
  private readonly corsOrigins: ReadonlySet<string>;
  private readonly isRevoked: (claims: RevocableClaims) => boolean;

  constructor(options: AccessOptions) {
    this.verifier =
      options.jwtKey === undefined
        ? undefined
        : new TokenVerifier({ key: options.jwtKey, issuer: options.jwtIssuer, audience: options.jwtAudience });
    this.tickets = new Tickets(options.broker, options.ticketTtlS * 1000, options.ticketsPerMinute ?? 60);
    this.publishTokenDigest = options.publishToken === undefined ? undefined : digest(options.publishToken);
    this.adminTokenDigest = options.adminToken === undefined ? undefined : digest(options.adminToken);
    const publicChannels = options.publicChannels;
    this.isPublic = options.isPublic ?? ((channel) => publicChannels.matches(channel));
    this.corsOrigins = new Set(options.corsOrigins ?? []);
    if (options.authHookUrl !== undefined && options.logger === undefined) throw new Error('Access: a hook needs a logger');
    this.hook =
      options.authHookUrl === undefined || options.logger === undefined
        ? undefined
        : new AuthHook({
            url: options.authHookUrl,
            headerNames: options.authHookHeaders ?? ['cookie'],
            timeoutMs: options.authHookTimeoutMs ?? 3000,
            cacheS: options.authHookCacheS ?? 30,
            logger: options.logger,
          });
    this.isRevoked = options.isRevoked ?? (() => false);
  }

  /**
   * Authorizes reading every one of `channels` (valid names): public ones need nothing, others a
   * credential (header, ticket, cookie; API.md's precedence) granting them or, without one, the
   * hook's answer. A credential that is present is verified even when every channel is public,
   * refused when invalid, and never passed to the hook. A cookie, or a read going to the hook,
   * from a foreign Origin is 403 `cross_site`. Without a key or a hook, resolves at once.
   * Rejects with AppError 401 / 403, BrokerUnavailableError when a ticket cannot be looked up,
   * or AuthUnavailableError when the hook cannot decide.
   */
  async authorizeRead(request: ReadRequest, channels: readonly string[]): Promise<ReadGrant> {
    if (this.verifier === undefined && this.hook === undefined) return ANONYMOUS;
    return this.authorizeWith(request, readCredential(request), channels);
  }

  /**
   * Refuses (401 `invalid_token`) a read whose token a revocation now covers. A stream checks it
   * once more after it is registered: a revocation that arrived between the token's check and
   * the registration found no stream of it to end.
   */
  assertNotRevoked(request: HeaderAccess, grant: ReadGrant): void {
    if ((grant.issuedAtMs !== null || grant.jti !== null) && this.isRevoked(grant)) throw unauthorized(request, 'the token has been revoked', true);
  }

  /**
   * Authorizes `POST /post` on `chat` (API.md, "The chat"): anyone when `chat` is public (a present
   * credential must still be valid, and its `sub` names the author); otherwise a header or cookie
   * token, or the hook's answer, that may read `chat`. Tickets do not count (they live in URLs).
   */
  async authorizeChatPost(request: ReadRequest, chat: string): Promise<ReadGrant> {
    if (this.verifier === undefined && this.hook === undefined) return ANONYMOUS;
    return this.authorizeWith(request, bearerCredential(request) ?? cookieCredential(request), [chat]);
  }

  private async authorizeWith(request: ReadRequest, credential: Credential | null, channels: readonly string[]): Promise<ReadGrant> {
    const privateChannel = channels.find((channel) => !this.isPublic(channel));
    if (credential === null) {
      if (privateChannel === undefined) return ANONYMOUS;
      if (this.hook === undefined) throw unauthorized(request, `channel "${privateChannel}" is private: it needs an access token`, false);
      return this.askHook(request, this.hook, channels.filter((channel) => !this.isPublic(channel)));
    }
    if (credential.carrier === 'cookie' && !isSameSiteRead(request, this.corsOrigins)) {
      // Another site's page may read public channels like anyone (no cookie needed, none used:
      // it must not make its visitor appear in presence); a private one it may not read at all.
      if (privateChannel === undefined) return ANONYMOUS;
      assertSameSiteRead(request, this.corsOrigins);
    }
    if (credential.carrier === 'header' && this.isAdminToken(credential.token)) return ANONYMOUS;
    // A publisher's client may send PUBLISH_TOKEN on every request: valid, but it grants no reading.
    if (credential.carrier === 'header' && this.isPublishToken(credential.token)) {
      if (privateChannel !== undefined) throw new AppError('forbidden', `PUBLISH_TOKEN does not grant reading channel "${privateChannel}"`);
      return ANONYMOUS;
    }
    if (this.verifier === undefined) throw unauthorized(request, 'access tokens and tickets are not accepted: no JWT key is configured', true);
    const { token, expiresAtMs } = await this.resolve(request, this.verifier, credential);
    for (const channel of channels) {
      if (!this.isPublic(channel) && !token.subscribe.matches(channel, token.sub)) {
        throw new AppError('forbidden', `the access token does not grant reading channel "${channel}"`);
      }
    }
    return { expiresAtMs, sub: token.sub, info: token.info, issuedAtMs: token.issuedAtMs, jti: token.jti };
  }

  /** The hook's answer for the private `channels` of a read that carries no credential. */
  private async askHook(request: ReadRequest, hook: AuthHook, channels: readonly string[]): Promise<ReadGrant> {
    // The hook is a cookie flow, with the cookie flow's risk: judged before it is called.
    assertSameSiteRead(request, this.corsOrigins);
    const verdict = await hook.authorize((name) => request.get(name), channels);
    if (verdict.kind === 'refused') {
      if (verdict.status === 401) throw unauthorized(request, 'the application did not authorize this read', false);
      throw new AppError('forbidden', `the application does not grant reading channel "${channels[0] ?? ''}"`);
    }
    const { grant } = verdict;
    if (grant.expiresAtMs !== null && grant.expiresAtMs <= Date.now()) throw unauthorized(request, "the application's authorization has expired", false);
    for (const channel of channels) {
      if (!grant.subscribe.matches(channel, grant.sub)) throw new AppError('forbidden', `the application does not grant reading channel "${channel}"`);
    }
    return { expiresAtMs: grant.expiresAtMs, sub: grant.sub, info: grant.info, issuedAtMs: null, jti: null };
  }

  /**
   * Authorizes publishing to `channel`: open when neither PUBLISH_TOKEN nor a key is configured;
   * otherwise the Authorization header must carry PUBLISH_TOKEN or an access token whose
   * `publish` grant matches. Cookies and tickets never count here (they would allow cross-site posts).
   * Resolves with the publisher's idempotency scope (broker/idempotency.ts): the token's `sub`,
   * else the shared scope.
   */
  async authorizePublish(request: HeaderAccess, channel: string): Promise<string> {
    if (this.publishTokenDigest === undefined && this.verifier === undefined) return SHARED_PUBLISHER;
    const bearer = requireBearer(request, `publishing needs Authorization: Bearer <${this.publishCredentialName()}>`);
    if (this.isPublishToken(bearer)) return SHARED_PUBLISHER;
    if (this.isAdminToken(bearer)) return ADMIN_PUBLISHER;
    if (this.verifier === undefined) throw unauthorized(request, 'the bearer token is not PUBLISH_TOKEN', true);
    const token = await this.verify(request, this.verifier, bearer);
    if (!token.publish.matches(channel, token.sub)) {
      throw new AppError('forbidden', `the access token does not grant publishing to channel "${channel}"`);
    }
    return token.sub === null ? SHARED_PUBLISHER : subjectPublisher(token.sub);
  }

  /**
   * Exchanges the access token in the Authorization header for a stream ticket (POST /tickets).
   * 404 `not_found` without a configured key; 401 without a valid token; 429
   * TooManyTicketsError past TICKETS_PER_MINUTE for the token's subject.
   */
  async issueTicket(request: HeaderAccess): Promise<{ ticket: string; expiresAtMs: number }> {
    if (this.verifier === undefined) throw new AppError('not_found', 'tickets need JWT_SECRET or JWT_PUBLIC_KEY to be configured');
    const bearer = requireBearer(request, 'a ticket needs Authorization: Bearer <access token>');
    const token = await this.verify(request, this.verifier, bearer);
    return this.tickets.issue(token, bearer);
  }

  private async resolve(request: ReadRequest, verifier: TokenVerifier, credential: Credential): Promise<{ token: AccessToken; expiresAtMs: number }> {
    switch (credential.carrier) {
      case 'malformed':
        throw unauthorized(request, credential.reason, true);
      case 'header':
      case 'cookie': {
        const token = await this.verify(request, verifier, credential.token);
        return { token, expiresAtMs: token.expiresAtMs };
      }
      case 'ticket': {
        const grant = await this.tickets.redeem(credential.ticket);
        if (grant === null) throw unauthorized(request, 'the ticket is unknown or has expired', true);
        // The ticket keeps its token's sub, iat and jti: a revocation of the token covers it too.
        if (this.isRevoked(grant.token)) throw unauthorized(request, 'the token this ticket was made from has been revoked', true);
        return grant;
      }
    }
  }

  private async verify(request: HeaderAccess, verifier: TokenVerifier, jwt: string): Promise<AccessToken> {
    let token: AccessToken;
    try {
      token = await verifier.verify(jwt);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw unauthorized(request, error.message, true);
      throw error;
    }
    if (this.isRevoked(token)) throw unauthorized(request, 'the token has been revoked', true);
    return token;
  }

  private isAdminToken(bearer: string): boolean {
    return this.adminTokenDigest !== undefined && timingSafeEqual(digest(bearer), this.adminTokenDigest);
  }

  /** Compares in constant time (both sides hashed to the same length first). */
  private isPublishToken(bearer: string): boolean {
    return this.publishTokenDigest !== undefined && timingSafeEqual(digest(bearer), this.publishTokenDigest);
  }

  private publishCredentialName(): string {
    if (this.verifier === undefined) return 'PUBLISH_TOKEN';
    return this.publishTokenDigest === undefined ? 'access token with a publish grant' : 'PUBLISH_TOKEN or an access token with a publish grant';
  }
}

/** The bearer token of the Authorization header; 401 when there is none or it is malformed. */
function requireBearer(request: HeaderAccess, missingMessage: string): string {
  const credential = bearerCredential(request);
  if (credential === null) throw unauthorized(request, missingMessage, false);
  if (credential.carrier === 'malformed') throw unauthorized(request, credential.reason, true);
  return credential.token;
}

/** 401 with the challenge RFC 6750 asks for; `invalidToken` when a credential was given. */
function unauthorized(request: HeaderAccess, message: string, invalidToken: boolean): AppError {
  request.set('WWW-Authenticate', invalidToken ? 'Bearer error="invalid_token"' : 'Bearer');
  return new AppError('unauthorized', message);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

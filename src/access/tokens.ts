import { jwtVerify, type JWTPayload } from 'jose';
import type { JwtKey } from './jwt-key';
import { PatternError, PatternList } from './patterns';

/** What a verified access token grants. Its patterns are compiled once, at verification. */
export interface AccessToken {
  /** The token's `sub`, or null without one. */
  readonly sub: string | null;
  /** The token's `exp`, in milliseconds since the epoch. */
  readonly expiresAtMs: number;
  readonly subscribe: PatternList;
  readonly publish: PatternList;
  /** The `ssehub.info` object shown in presence, or null. */
  readonly info: Record<string, unknown> | null;
  /** The token's `iat` (seconds) and `jti`, or null: what a revocation may name. */
  readonly iat: number | null;
  readonly jti: string | null;
}

/** The token is not acceptable (signature, algorithm, expiry, claims or shape); the message says why. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

export interface TokenVerifierOptions {
  readonly key: JwtKey;
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
}

/** Most patterns in one `subscribe` or `publish` list. */
export const MAX_GRANT_PATTERNS = 64;
/** Largest `ssehub.info`, as compact JSON in UTF-8 bytes. */
export const MAX_INFO_BYTES = 1024;
// A JWT is three base64url parts; anything longer than a header can carry is not one of ours.
const MAX_TOKEN_CHARS = 16_384;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Verifies access tokens with the configured key and its one algorithm (so `none`, and HS256
 * signed with a public key's text, are refused), requires `exp`, checks `iss` / `aud` when
 * configured, and reads the `ssehub` claim.
 */
export class TokenVerifier {
  constructor(private readonly options: TokenVerifierOptions) {}

  /** Resolves with the token's grants; rejects with InvalidTokenError when it is not acceptable. */
  async verify(jwt: string): Promise<AccessToken> {
    if (jwt.length > MAX_TOKEN_CHARS || !JWT_SHAPE.test(jwt)) throw new InvalidTokenError('the token is not a JWT');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, this.options.key.key, {
        algorithms: [this.options.key.algorithm],
        requiredClaims: ['exp'],
        issuer: this.options.issuer,
        audience: this.options.audience,
      }));
    } catch (error) {
      throw new InvalidTokenError(describeFailure(error));
    }
    return readGrants(payload);
  }
}

function describeFailure(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ERR_JWT_EXPIRED') return 'the token has expired';
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return 'the token signature does not verify';
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') return 'the token is signed with an algorithm this server does not accept';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return `the token's claims are not accepted (${(error as Error).message})`;
  return 'the token is malformed';
}

function readGrants(payload: JWTPayload): AccessToken {
  if (payload.sub !== undefined && typeof payload.sub !== 'string') throw new InvalidTokenError('"sub" must be a string');
  const claim = payload.ssehub ?? {};
  if (!isPlainObject(claim)) throw new InvalidTokenError('"ssehub" must be an object');
  return {
    sub: payload.sub ?? null,
    expiresAtMs: (payload.exp as number) * 1000,
    subscribe: grantList(claim.subscribe, 'subscribe'),
    publish: grantList(claim.publish, 'publish'),
    info: infoObject(claim.info),
    iat: typeof payload.iat === 'number' ? payload.iat : null,
    jti: typeof payload.jti === 'string' ? payload.jti : null,
  };
}

function grantList(value: unknown, name: string): PatternList {
  if (value === undefined) return PatternList.EMPTY;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new InvalidTokenError(`"ssehub.${name}" must be a list of channel patterns`);
  }
  if (value.length > MAX_GRANT_PATTERNS) throw new InvalidTokenError(`"ssehub.${name}" has more than ${MAX_GRANT_PATTERNS} patterns`);
  try {
    return PatternList.compile(value);
  } catch (error) {
    if (error instanceof PatternError) throw new InvalidTokenError(`"ssehub.${name}": ${error.message}`);
    throw error;
  }
}

function infoObject(value: unknown): Record<string, unknown> | null {
  if (value === undefined) return null;
  if (!isPlainObject(value)) throw new InvalidTokenError('"ssehub.info" must be an object');
  if (Buffer.byteLength(JSON.stringify(value), 'utf8') > MAX_INFO_BYTES) {
    throw new InvalidTokenError(`"ssehub.info" is larger than ${MAX_INFO_BYTES} bytes`);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import { createHmac, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';

/** The key kinds a server can be configured with, and the algorithm each signs with. */
export type KeyKind = 'HS256' | 'RS256' | 'ES256' | 'EdDSA';
export const KEY_KINDS: KeyKind[] = ['HS256', 'RS256', 'ES256', 'EdDSA'];

/** A real signing key and the server environment that verifies with it. */
export interface TestKey {
  readonly kind: KeyKind;
  /** JWT_SECRET or JWT_PUBLIC_KEY, for the server. */
  readonly env: Record<string, string>;
  readonly signingKey: KeyObject | Uint8Array;
  /** The PEM text of the public key (empty for HS256). */
  readonly publicPem: string;
}

export interface Grants {
  subscribe?: string[];
  publish?: string[];
  info?: Record<string, unknown>;
}

export interface TokenOptions {
  readonly sub?: string;
  /** Seconds from now; default 300. */
  readonly expiresInS?: number;
  readonly issuer?: string;
  readonly audience?: string;
  /** Extra or replacing claims, e.g. `{ ssehub: 'not an object' }`. */
  readonly claims?: JWTPayload;
  /** Leave `exp` out. */
  readonly noExp?: boolean;
}

/** Makes a fresh key of `kind` (RSA 2048, EC P-256, Ed25519, or a 48-byte secret). */
export function makeKey(kind: KeyKind): TestKey {
  if (kind === 'HS256') {
    const secret = randomBytes(48).toString('base64url');
    return { kind, env: { JWT_SECRET: secret }, signingKey: new TextEncoder().encode(secret), publicPem: '' };
  }
  const pair =
    kind === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : kind === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { kind, env: { JWT_PUBLIC_KEY: publicPem }, signingKey: pair.privateKey, publicPem };
}

/** Signs an access token with `key` (as an application would), granting `grants`. */
export function signToken(key: TestKey, grants: Grants | undefined, options: TokenOptions = {}): Promise<string> {
  return signWith(key.signingKey, key.kind, grants, options);
}

/** Signs with any key and algorithm (to make tokens the server must refuse). */
export async function signWith(signingKey: KeyObject | Uint8Array, alg: string, grants: Grants | undefined, options: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({ ...(grants === undefined ? {} : { ssehub: grants }), ...options.claims }).setProtectedHeader({ alg, typ: 'JWT' }).setIssuedAt();
  if (!options.noExp) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresInS ?? 300));
  if (options.sub !== undefined) jwt.setSubject(options.sub);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  return jwt.sign(signingKey);
}

/** An `alg: none` token with the given claims and a valid-looking exp. */
export function unsignedToken(grants: Grants, options: TokenOptions = {}): string {
  const jwt = new UnsecuredJWT({ ssehub: grants }).setExpirationTime(Math.floor(Date.now() / 1000) + 300);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  return jwt.encode();
}

/**
 * The classic key-confusion forgery: HS256 whose HMAC key is the server's public key PEM text,
 * signed by hand, as an attacker would, so no library check stands in the way.
 */
export function hs256WithText(text: string, payload: JWTPayload): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payload)}`;
  return `${signingInput}.${createHmac('sha256', text).update(signingInput).digest('base64url')}`;
}

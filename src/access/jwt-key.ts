import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';

/** The algorithms a configured key may verify; each key allows exactly one. */
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256' | 'EdDSA';

/** The verification key of access tokens and the one algorithm it is used with. */
export interface JwtKey {
  readonly key: KeyObject;
  readonly algorithm: JwtAlgorithm;
  /** Which variable it came from, for messages. */
  readonly variable: 'JWT_SECRET' | 'JWT_PUBLIC_KEY';
}

/** A configured key that cannot be used; the message names the variable. */
export class JwtKeyError extends Error {
  override name = 'JwtKeyError';
}

const MIN_SECRET_BYTES = 32;
const MIN_RSA_BITS = 2048;

/** JWT_SECRET: an HS256 key of at least 32 bytes (its UTF-8 text is the key). */
export function secretKey(secret: string): JwtKey {
  if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    throw new JwtKeyError(`JWT_SECRET is too short: HS256 needs at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -base64 48)`);
  }
  return { key: createSecretKey(Buffer.from(secret, 'utf8')), algorithm: 'HS256', variable: 'JWT_SECRET' };
}

/**
 * JWT_PUBLIC_KEY: a PEM public key (SPKI or X.509 certificate) whose type picks the algorithm:
 * RSA (≥ 2048 bits) → RS256, EC P-256 → ES256, Ed25519 / Ed448 → EdDSA. A private key is refused:
 * the hub only verifies, and a signing key has no business on it. `\n` escapes (as some
 * environment files write a PEM on one line) are read as newlines.
 */
export function publicKey(pem: string): JwtKey {
  const text = pem.includes('\n') ? pem : pem.replace(/\\n/g, '\n');
  if (/PRIVATE KEY/.test(text)) throw new JwtKeyError('JWT_PUBLIC_KEY holds a private key: give the public key only (openssl pkey -pubout)');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch {
    throw new JwtKeyError('JWT_PUBLIC_KEY is not a PEM public key (-----BEGIN PUBLIC KEY----- …)');
  }
  return { key, algorithm: algorithmOf(key), variable: 'JWT_PUBLIC_KEY' };
}

function algorithmOf(key: KeyObject): JwtAlgorithm {
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'rsa':
      if ((details?.modulusLength ?? 0) < MIN_RSA_BITS) {
        throw new JwtKeyError(`JWT_PUBLIC_KEY is an RSA key of ${details?.modulusLength ?? 0} bits: RS256 needs at least ${MIN_RSA_BITS}`);
      }
      return 'RS256';
    case 'ec':
      if (details?.namedCurve !== 'prime256v1') {
        throw new JwtKeyError(`JWT_PUBLIC_KEY is an EC key on ${details?.namedCurve ?? 'an unknown curve'}: ES256 needs P-256 (prime256v1)`);
      }
      return 'ES256';
    case 'ed25519':
    case 'ed448':
      return 'EdDSA';
    default:
      throw new JwtKeyError(`JWT_PUBLIC_KEY is a ${key.asymmetricKeyType ?? 'unknown'} key: expected RSA, EC P-256 or Ed25519`);
  }
}

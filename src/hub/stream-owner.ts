/** The claims of the credential that authorized a stream (all null for an anonymous one). */
export interface StreamOwner {
  readonly sub: string | null;
  /** The token's `iat` in ms since the epoch. */
  readonly issuedAtMs: number | null;
  readonly jti: string | null;
}

/** The owner of a stream opened without a credential. */
export const ANONYMOUS_OWNER: StreamOwner = Object.freeze({ sub: null, issuedAtMs: null, jti: null });

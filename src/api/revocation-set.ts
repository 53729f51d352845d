import type { StreamOwner } from '../hub/stream-owner';
import type { RevokeOrder } from './control-plane';

interface Entry {
  /** By sub: tokens issued before this (ms) are revoked. By jti: unused (0). */
  readonly beforeMs: number;
  readonly expiresAtMs: number;
}

/**
 * The revocations in force, in process memory, so checking a token is two Map lookups. A
 * control plane adds what it learns (its own orders, the control channel's, the stored ones at
 * start); each entry lasts `ttlMs` from when it was made. For a `sub` only the latest `before`
 * is kept: it covers every earlier one.
 */
export class RevocationSet {
  private readonly bySub = new Map<string, Entry>();
  private readonly byJti = new Map<string, Entry>();
  /** Expired entries are swept at most this often, so loading many revocations stays linear. */
  private nextSweepMs = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds a revocation made at `madeAtMs` (default now); one already expired is ignored. */
  add(order: RevokeOrder, madeAtMs = this.now()): void {
    const nowMs = this.now();
    if (nowMs >= this.nextSweepMs) {
      this.sweep(nowMs);
      this.nextSweepMs = nowMs + Math.min(this.ttlMs, 60_000);
    }
    const expiresAtMs = madeAtMs + this.ttlMs;
    if (expiresAtMs <= nowMs) return;
    if ('jti' in order) {
      this.byJti.set(order.jti, { beforeMs: 0, expiresAtMs: Math.max(expiresAtMs, this.byJti.get(order.jti)?.expiresAtMs ?? 0) });
      return;
    }
    const existing = this.bySub.get(order.sub);
    if (existing !== undefined && existing.beforeMs >= order.beforeMs && existing.expiresAtMs >= expiresAtMs) return;
    this.bySub.set(order.sub, {
      beforeMs: Math.max(order.beforeMs, existing?.beforeMs ?? 0),
      expiresAtMs: Math.max(expiresAtMs, existing?.expiresAtMs ?? 0),
    });
  }

  /**
   * True when a token with these claims is revoked: its `jti` is, or its `sub` is revoked for
   * tokens issued before a time and it was issued before it (or has no `iat`).
   */
  covers(claims: StreamOwner): boolean {
    // The lookups first: the clock is read only for a token that has an entry at all.
    const byJti = claims.jti === null ? undefined : this.byJti.get(claims.jti);
    const bySub = claims.sub === null ? undefined : this.bySub.get(claims.sub);
    if (byJti === undefined && bySub === undefined) return false;
    const nowMs = this.now();
    if (byJti !== undefined && byJti.expiresAtMs > nowMs) return true;
    if (bySub === undefined || bySub.expiresAtMs <= nowMs) return false;
    return claims.issuedAtMs === null || claims.issuedAtMs < bySub.beforeMs;
  }

  /** How many revocations are kept (for tests and the logs). */
  get size(): number {
    return this.bySub.size + this.byJti.size;
  }

  private sweep(nowMs: number): void {
    for (const map of [this.bySub, this.byJti]) {
      for (const [key, entry] of map) if (entry.expiresAtMs <= nowMs) map.delete(key);
    }
  }
}

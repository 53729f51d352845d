import type { ControlMessage, ControlStore, DisconnectMessage, Revocation, StoredRevocation } from '../control-store';
import type { StoreClock } from '../stats-store';

/** The in-process ControlStore: orders reach this process's listener at once; nothing survives a restart. */
export class MemoryControlStore implements ControlStore {
  private listener: (message: ControlMessage) => void = () => undefined;
  private readonly revocations = new Map<string, StoredRevocation>();

  constructor(
    private readonly deleteChannelHistory: (channel: string) => Promise<void>,
    private readonly clock: StoreClock = { now: Date.now },
  ) {}

  listen(listener: (message: ControlMessage) => void): Promise<void> {
    this.listener = listener;
    return Promise.resolve();
  }

  sendDisconnect(message: Omit<DisconnectMessage, 'kind'>): Promise<void> {
    this.listener({ kind: 'disconnect', ...message });
    return Promise.resolve();
  }

  revoke(revocation: Revocation, ttlMs: number): Promise<void> {
    const nowMs = this.clock.now();
    for (const [key, stored] of this.revocations) if (stored.expiresAtMs <= nowMs) this.revocations.delete(key);
    const key = 'jti' in revocation ? `jti:${revocation.jti}` : `sub:${revocation.sub}`;
    const previous = this.revocations.get(key)?.revocation;
    const kept = previous !== undefined && 'beforeMs' in previous && 'beforeMs' in revocation && previous.beforeMs > revocation.beforeMs ? previous : revocation;
    const stored = { revocation: kept, expiresAtMs: nowMs + ttlMs };
    this.revocations.set(key, stored);
    this.listener({ kind: 'revoke', ...stored });
    return Promise.resolve();
  }

  loadRevocations(): Promise<StoredRevocation[]> {
    const nowMs = this.clock.now();
    return Promise.resolve([...this.revocations.values()].filter((stored) => stored.expiresAtMs > nowMs));
  }

  deleteHistory(channel: string): Promise<void> {
    return this.deleteChannelHistory(channel);
  }
}

/**
 * The hook's answers on one instance: bounded, least recently used out first, each entry dropped
 * at its own expiry. A Map keeps insertion order, so re-inserting on a hit is the whole LRU.
 */
export class HookCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAtMs: number }>();

  /**
   * @param capacity most entries held (at least 1); the least recently used goes first past it.
   * @param now the clock, ms since the epoch (injectable for tests).
   */
  constructor(
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The live value under `key` (now the most recently used), or undefined when absent or expired. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAtMs <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Holds `value` until `expiresAtMs`; a time not in the future stores nothing. */
  set(key: string, value: V, expiresAtMs: number): void {
    this.entries.delete(key);
    if (expiresAtMs <= this.now()) return;
    this.entries.set(key, { value, expiresAtMs });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** How many entries are held (expired ones included until they are next looked at or pushed out). */
  get size(): number {
    return this.entries.size;
  }
}

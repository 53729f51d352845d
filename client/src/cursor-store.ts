/**
 * Keeping a subscription's cursor across restarts: a store is given to `subscribe` as
 * `{ cursorStore }`, which loads the cursor from it at start and saves it as items are handled
 * (throttled) and on close. Browser helpers here; the file store is in `@ssehub/client/node`.
 */

/** Where a cursor is kept. `save` may be called often: implementations throttle. */
export interface CursorStore {
  /** The saved cursor, or undefined when none was saved. */
  load(): string | undefined | Promise<string | undefined>;
  /** Records `cursor`; written at most every few hundred milliseconds. */
  save(cursor: string): void;
  /** Writes the last saved cursor now (on close). */
  flush(): void | Promise<void>;
}

/** Default interval between two writes of a throttled store. */
export const DEFAULT_SAVE_INTERVAL_MS = 250;

/**
 * Wraps `write` so that it runs at most once per `intervalMs`, always with the latest cursor
 * (the last one is written when the interval ends), and at once on `flush()`.
 */
export function throttledStore(
  load: () => string | undefined | Promise<string | undefined>,
  write: (cursor: string) => void | Promise<void>,
  intervalMs = DEFAULT_SAVE_INTERVAL_MS,
): CursorStore {
  let latest: string | undefined;
  let written: string | undefined;
  let lastWriteMs = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> = Promise.resolve();

  const writeLatest = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const cursor = latest;
    if (cursor === undefined || cursor === written) return writing;
    written = cursor;
    lastWriteMs = Date.now();
    writing = writing.then(() => write(cursor)).catch(() => undefined);
    return writing;
  };

  return {
    load,
    save(cursor) {
      latest = cursor;
      if (timer !== undefined) return;
      const waitMs = lastWriteMs + intervalMs - Date.now();
      if (waitMs <= 0) {
        void writeLatest();
        return;
      }
      timer = setTimeout(() => void writeLatest(), waitMs);
      unref(timer);
    },
    flush: writeLatest,
  };
}

interface WebStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Keeps the cursor in `localStorage[key]` (shared by the origin's tabs, kept across restarts). */
export function localStorageCursor(key: string, intervalMs?: number): CursorStore {
  return webStorageCursor('localStorage', key, intervalMs);
}

/** Keeps the cursor in `sessionStorage[key]` (this tab only, kept across reloads). */
export function sessionStorageCursor(key: string, intervalMs?: number): CursorStore {
  return webStorageCursor('sessionStorage', key, intervalMs);
}

function webStorageCursor(name: 'localStorage' | 'sessionStorage', key: string, intervalMs?: number): CursorStore {
  const storage = (globalThis as Record<string, unknown>)[name] as WebStorage | undefined;
  if (storage === undefined) throw new TypeError(`${name} is not available here`);
  return throttledStore(
    () => storage.getItem(key) ?? undefined,
    (cursor) => {
      try {
        storage.setItem(key, cursor);
      } catch {
        // Quota exceeded or storage disabled: the cursor stays in memory only.
      }
    },
    intervalMs,
  );
}

/** A timer that keeps no Node process alive (no-op in browsers). */
function unref(timer: ReturnType<typeof setTimeout>): void {
  const handle = timer as unknown as { unref?: () => void };
  handle.unref?.();
}

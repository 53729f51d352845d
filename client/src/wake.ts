/**
 * Reasons to stop waiting for a reconnect: the browser came back online, or the page became
 * visible again. Outside a browser there are none and waits run their full length.
 */

interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

interface DocumentLike extends EventTargetLike {
  readonly visibilityState?: string;
}

/** Calls `listener` when the browser goes online or the page becomes visible; returns the undo. */
export function onWake(listener: () => void): () => void {
  const scope = globalThis as { addEventListener?: unknown; document?: unknown };
  const window = typeof scope.addEventListener === 'function' ? (globalThis as unknown as EventTargetLike) : undefined;
  const document = scope.document as DocumentLike | undefined;
  const onVisibility = (): void => {
    if (document?.visibilityState === 'visible') listener();
  };
  window?.addEventListener('online', listener);
  document?.addEventListener('visibilitychange', onVisibility);
  return () => {
    window?.removeEventListener('online', listener);
    document?.removeEventListener('visibilitychange', onVisibility);
  };
}

/**
 * Resolves after `ms`, or earlier when the browser wakes (see `onWake`) or `signal` aborts.
 * Never rejects.
 */
export function wakeableDelay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      undo();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const undo = onWake(done);
    signal.addEventListener('abort', done, { once: true });
  });
}

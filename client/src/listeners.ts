import { SseHubError } from './errors.js';

type Listener = (...args: never[]) => void | Promise<void>;

/**
 * The callbacks of one subscription by kind. A listener that throws or rejects is reported to
 * the `error` listeners (never to its caller), so one faulty listener stops nothing else.
 */
export class Listeners<Kind extends string> {
  private readonly byKind = new Map<Kind | 'error', Listener[]>();

  /** Adds `listener` for `kind`; returns the function that removes it. */
  add(kind: Kind | 'error', listener: Listener): () => void {
    const list = this.byKind.get(kind) ?? [];
    this.byKind.set(kind, list);
    list.push(listener);
    return () => {
      const index = list.indexOf(listener);
      if (index !== -1) list.splice(index, 1);
    };
  }

  /** Calls the listeners of `kind` in order, awaiting each (so a slow one holds back the next item). */
  async emit(kind: Kind | 'error', ...args: unknown[]): Promise<void> {
    for (const listener of [...(this.byKind.get(kind) ?? [])]) {
      try {
        await (listener as (...values: unknown[]) => void | Promise<void>)(...args);
      } catch (error) {
        if (kind === 'error') continue;
        const failure = error instanceof SseHubError ? error : new SseHubError(`listener failed: ${String(error)}`, 0, 'listener_error', { cause: error });
        await this.emit('error', failure);
      }
    }
  }
}

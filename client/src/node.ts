import { readFile, rename, writeFile } from 'node:fs/promises';
import { throttledStore, type CursorStore } from './cursor-store.js';

/**
 * Node only (`@ssehub/client/node`): keeps the cursor in the file at `path`, written at most
 * every `intervalMs` (default 250) and on `flush()`. Each write goes to a temporary file that
 * is then renamed over `path`, so a crash never leaves a half-written cursor.
 */
export function fileCursorStore(path: string, intervalMs?: number): CursorStore {
  return throttledStore(
    async () => {
      try {
        const text = (await readFile(path, 'utf8')).trim();
        return text === '' ? undefined : text;
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async (cursor) => {
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, `${cursor}\n`);
      await rename(temporary, path);
    },
    intervalMs,
  );
}

export * from './index.js';

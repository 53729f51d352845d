import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { throttledStore } from '../../client/src/cursor-store.js';
import { fileCursorStore } from '../../client/src/node.js';

describe('cursor stores', () => {
  it('write at most once per interval, always the latest cursor, and at once on flush', async () => {
    const writes: string[] = [];
    let wrote: () => void = () => undefined;
    const nextWrite = (): Promise<void> => new Promise((resolve) => (wrote = resolve));
    const store = throttledStore(
      () => undefined,
      (cursor) => {
        writes.push(cursor);
        wrote();
      },
      200,
    );
    const startedMs = Date.now();
    let written = nextWrite();
    store.save('a=1');
    store.save('a=2');
    store.save('a=3');
    await written;
    expect(writes).toEqual(['a=1']);
    written = nextWrite();
    await written;
    expect(writes).toEqual(['a=1', 'a=3']);
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(195);

    store.save('a=4');
    await store.flush();
    expect(writes).toEqual(['a=1', 'a=3', 'a=4']);
    await store.flush();
    expect(writes).toHaveLength(3);
  });

  it('keeps the cursor in a file, replaced whole on each write, and reads it back', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ssehub-cursor-'));
    try {
      const path = join(directory, 'cursor.txt');
      const store = fileCursorStore(path);
      expect(await store.load()).toBeUndefined();
      store.save('orders.eu=17,user.42=0');
      await store.flush();
      expect(readFileSync(path, 'utf8')).toBe('orders.eu=17,user.42=0\n');
      expect(await fileCursorStore(path).load()).toBe('orders.eu=17,user.42=0');
      expect(readdirSync(directory)).toEqual(['cursor.txt']);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

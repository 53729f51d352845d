import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '../helpers/test-server';
import { ensureClientBuilt } from '../helpers/client-build';
import { consecutive, CLIENT_WAIT } from './client-helpers';
import { eventually } from '../helpers/eventually';
import { publishId } from '../helpers/publish';

const SCRIPT = join(__dirname, '..', '..', 'client', 'examples', 'consume.mjs');

/** The README's example consumer, run as a user would: `node client/examples/consume.mjs …`. */
class Consumer {
  readonly lines: string[] = [];
  private readonly child: ChildProcess;
  private partial = '';
  /** What it printed on stderr (its connection states), for the failure message. */
  stderr = '';

  constructor(url: string, cursorFile: string, channels: string[]) {
    this.child = spawn(process.execPath, [SCRIPT, url, cursorFile, ...channels], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const text = this.partial + chunk.toString();
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      this.lines.push(...lines);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  /** Sends `signal` and resolves with how it exited: its code, or the signal that ended it. */
  async stop(signal: NodeJS.Signals): Promise<number | string> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode ?? `already ended by ${this.child.signalCode}: ${this.stderr}`;
    const exited = once(this.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    this.child.kill(signal);
    const [code, ended] = await exited;
    return code ?? `ended by ${ended}: ${this.stderr}`;
  }
}

describe('the example Node consumer (client/examples/consume.mjs)', () => {
  const directory = mkdtempSync(join(tmpdir(), 'ssehub-client-'));
  beforeAll(() => ensureClientBuilt());
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('consumes two channels, is stopped mid-stream, and restarted with its saved cursor has every event exactly once', async () => {
    const hub = await startTestServer('redis');
    const consumers: Consumer[] = [];
    try {
      const cursorFile = join(directory, 'cursor.txt');
      writeFileSync(cursorFile, 'orders.eu=0,user.42=0\n');
      const first = new Consumer(hub.url, cursorFile, ['orders.eu', 'user.42']);
      consumers.push(first);
      // Publishing goes on while the consumer is stopped, and more is published while it is down.
      const publishing = (async () => {
        for (let n = 0; n < 20; n++) await publishId(hub.url, n % 2 === 0 ? 'orders.eu' : 'user.42', { n });
      })();
      await eventually(() => first.lines.length >= 10, 'the first run to print 10 events', CLIENT_WAIT);
      expect(await first.stop('SIGTERM')).toBe(0);
      const printedBefore = first.lines.length;
      expect(readFileSync(cursorFile, 'utf8')).toMatch(/^orders\.eu=\d+,user\.42=\d+\n$/);
      await publishing;
      for (let n = 20; n < 40; n++) await publishId(hub.url, n % 2 === 0 ? 'orders.eu' : 'user.42', { n });

      const second = new Consumer(hub.url, cursorFile, ['orders.eu', 'user.42']);
      consumers.push(second);
      await eventually(() => printedBefore + second.lines.length >= 40, 'the second run to print the rest', CLIENT_WAIT);

      const all = [...first.lines, ...second.lines].map((line) => line.split(' '));
      for (const channel of ['orders.eu', 'user.42']) {
        const ids = all.filter(([name]) => name === channel).map(([, id]) => Number(id));
        expect(ids).toEqual(consecutive(ids[0]!, 20));
      }
      expect(all.every(([name]) => name !== 'gap')).toBe(true);
      expect(await second.stop('SIGINT')).toBe(0);
      expect(second.lines.length + printedBefore).toBe(40);
    } finally {
      await Promise.all(consumers.map((consumer) => consumer.stop('SIGKILL').catch(() => null)));
      await hub.close();
    }
  });
});

import { execFileSync } from 'node:child_process';
import { PingWatchdog } from '../../src/broker/redis/ping-watchdog';
import { startTestServer, testRedisUrl } from '../helpers/test-server';

type Pinger = { ping(target: unknown): void };

/** Keeps this process's event loop busy, as a long GC pause or a starved CPU would. */
function blockEventLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // Busy on purpose.
  }
}

describe('the Redis ping watchdog', () => {
  afterEach(() => jest.restoreAllMocks());

  it('does not take its own blocked event loop for a lost Redis (the answer waits in the socket)', async () => {
    const server = await startTestServer('redis');
    try {
      const downs: unknown[] = [];
      server.broker.on('down', () => downs.push(new Date()));
      const prototype = PingWatchdog.prototype as unknown as Pinger;
      const original = prototype.ping;
      let blocked = false;
      const pingedAndBlocked = new Promise<void>((resolve) => {
        jest.spyOn(prototype, 'ping').mockImplementation(function (this: Pinger, target: unknown) {
          original.call(this, target);
          if (blocked) return;
          blocked = true;
          // The ping is on the wire and its 2 s deadline passes while the loop cannot read.
          blockEventLoop(2600);
          // Still blocked: make sure Redis has had its turn (on a loaded machine it may not
          // have), so that its answer is waiting when the loop reads again.
          execFileSync('redis-cli', ['-u', testRedisUrl(), 'ping']);
          setTimeout(resolve, 300);
        });
      });
      await pingedAndBlocked;
      expect(downs).toEqual([]);
      expect(server.broker.ready).toBe(true);
    } finally {
      await server.close();
    }
  });
});

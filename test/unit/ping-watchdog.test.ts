import pino from 'pino';
import { PingWatchdog, type PingTarget } from '../../src/broker/redis/ping-watchdog';

/** A connection whose pings are answered only when the test says so. */
class FakeConnection {
  status = 'ready';
  readonly stream = { bytesRead: 0 };
  readonly answers: Array<() => void> = [];

  ping(): Promise<unknown> {
    return new Promise((resolve) => this.answers.push(() => resolve('PONG')));
  }

  answerAll(): void {
    for (const answer of this.answers.splice(0)) answer();
  }
}

describe('the ping watchdog (fake timers, injected clock)', () => {
  let clock = 0;
  let lost: string[];
  let connection: FakeConnection;
  let watchdog: PingWatchdog;

  beforeEach(() => {
    jest.useFakeTimers();
    clock = 0;
    lost = [];
    connection = new FakeConnection();
    const target: PingTarget = { label: 'subscriber', connection, lost: () => lost.push('subscriber') };
    watchdog = new PingWatchdog({ targets: () => [target], logger: pino({ level: 'silent' }), now: () => clock, intervalMs: 1000, timeoutMs: 2000 });
  });
  afterEach(() => {
    watchdog.stop();
    jest.useRealTimers();
  });

  /** Advances the fake timers and the injected clock together, as real time would. */
  function elapse(ms: number): void {
    clock += ms;
    jest.advanceTimersByTime(ms);
    // The verdict is given in a setImmediate after the deadline (after the loop's I/O phase),
    // which the fake timers run only on a later advance.
    jest.advanceTimersByTime(1);
  }

  it('declares a connection lost once a ping goes unanswered past its deadline', () => {
    watchdog.tick();
    elapse(1999);
    expect(lost).toEqual([]);
    elapse(1);
    expect(lost).toEqual(['subscriber']);
  });

  it('does nothing when each ping is answered in time', async () => {
    watchdog.start();
    for (let second = 0; second < 10; second++) {
      elapse(1000);
      connection.answerAll();
      await Promise.resolve();
    }
    expect(lost).toEqual([]);
  });

  it('extends the deadline while the connection keeps receiving (a backlog ahead of the answer), up to five times', () => {
    watchdog.tick();
    for (let extension = 0; extension < 5; extension++) {
      connection.stream.bytesRead += 100;
      elapse(2000);
      expect(lost).toEqual([]);
    }
    connection.stream.bytesRead += 100;
    elapse(2000);
    expect(lost).toEqual(['subscriber']);
  });

  it('extends a deadline that passed while this process was stalled', () => {
    watchdog.tick();
    // The process could not run: the clock moved 1.5 s beyond the deadline before the judge ran.
    clock += 1500;
    elapse(2000);
    expect(lost).toEqual([]);
    // Given a new deadline, it still counts as lost if no answer comes by then.
    elapse(2000);
    expect(lost).toEqual(['subscriber']);
  });

  it('does not ping a connection that is not ready', () => {
    connection.status = 'reconnecting';
    watchdog.tick();
    expect(connection.answers).toHaveLength(0);
    elapse(5000);
    expect(lost).toEqual([]);
  });

  it('forgets pings in flight when stopped', () => {
    watchdog.tick();
    watchdog.stop();
    elapse(5000);
    expect(lost).toEqual([]);
  });
});

import { Backoff } from '../../client/src/backoff.js';

describe('Backoff', () => {
  it('draws full-jitter delays whose ceiling doubles per attempt up to maxMs', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([99, 199, 399, 799, 999, 999]);
    const low = new Backoff({ initialMs: 100, random: () => 0 });
    expect(low.next()).toBe(0);
  });

  it("uses the server's retry: as the base of later delays", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 30_000, random: () => 0.5 });
    backoff.setBase(2000);
    expect(backoff.next()).toBe(1000);
    expect(backoff.next()).toBe(2000);
  });

  it('honours a floor (a busy answer) even above maxMs', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.5 });
    expect(backoff.next(20_000)).toBe(20_000);
  });

  it('resets after a connection that stayed healthy long enough, not after a short one', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, healthyAfterMs: 5000, random: () => 0.999999 });
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.connectionEnded(4999);
    expect(backoff.next()).toBe(799);
    backoff.connectionEnded(5000);
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(99);
  });
});

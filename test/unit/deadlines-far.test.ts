import { Deadlines } from '../../src/hub/deadlines';

describe('Deadlines far in the future', () => {
  it('never asks setTimeout for more than it honours (a 30-day token would otherwise wake the hub every millisecond)', () => {
    const spy = jest.spyOn(global, 'setTimeout');
    const deadlines = new Deadlines();
    try {
      deadlines.add(Date.now() + 30 * 86_400_000, () => undefined);
      deadlines.add(Date.now() + 30 * 365 * 86_400_000, () => undefined);
      const delays = spy.mock.calls.map((call) => call[1] ?? 0);
      expect(delays.length).toBeGreaterThan(0);
      for (const delay of delays) expect(delay).toBeLessThanOrEqual(2 ** 31 - 1);
    } finally {
      deadlines.stop();
      spy.mockRestore();
    }
  });
});

import { retryWhileBrokerUnavailable } from '../../src/api/start-retry';
import { AppError, BrokerUnavailableError } from '../../src/errors';

describe('a start-up step that needs the broker', () => {
  it('is tried again while the broker is briefly unavailable, waiting longer each time', async () => {
    const pauses: number[] = [];
    let calls = 0;
    const result = await retryWhileBrokerUnavailable(
      () => {
        calls++;
        return calls < 4 ? Promise.reject(new BrokerUnavailableError()) : Promise.resolve('subscribed');
      },
      (ms) => Promise.resolve(pauses.push(ms)),
    );
    expect(result).toBe('subscribed');
    expect(pauses).toEqual([100, 200, 400]);
  });

  it('fails at once on any other error, and after the last attempt while the broker stays away', async () => {
    const pauses: number[] = [];
    const pause = (ms: number): Promise<number> => Promise.resolve(pauses.push(ms));
    await expect(retryWhileBrokerUnavailable(() => Promise.reject(new AppError('forbidden', 'no')), pause)).rejects.toThrow('no');
    expect(pauses).toEqual([]);
    await expect(retryWhileBrokerUnavailable(() => Promise.reject(new BrokerUnavailableError()), pause)).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(pauses).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });
});

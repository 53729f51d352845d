import { eventually } from '../helpers/eventually';

describe('eventually (the test helper that waits for an effect)', () => {
  it('resolves as soon as a predicate holds, with what the holding attempt returned', async () => {
    let calls = 0;
    const value = await eventually(() => ++calls >= 3 && `after ${calls}`, 'the third call');
    expect(value).toBe('after 3');
  });

  it('takes a block of expects: it holds once they stop throwing', async () => {
    let count = 0;
    await eventually(() => expect(++count).toBe(4), 'count to reach 4');
    expect(count).toBe(4);
  });

  it('rejects after the deadline naming the wait and the last assertion that failed', async () => {
    const failure = eventually(() => expect('red').toBe('green'), 'the light to turn green', { timeoutMs: 50 });
    await expect(failure).rejects.toThrow(/timed out after 50 ms waiting for the light to turn green; last failure: [\s\S]*"green"[\s\S]*"red"/);
  });

  it('says so when a predicate simply stayed false', async () => {
    await expect(eventually(() => false, 'never', { timeoutMs: 20 })).rejects.toThrow('timed out after 20 ms waiting for never; the check still returned false');
  });
});

import fc from 'fast-check';
import { AppError } from '../../src/errors';
import { parseCursor, sortChannels } from '../../src/hub/cursor';
import { Deadlines } from '../../src/hub/deadlines';

describe('the multi-channel cursor', () => {
  it('parses name=id entries into resume points and treats empty as absent', () => {
    expect(parseCursor('orders.eu=17,user.42=0')).toEqual(new Map([['orders.eu', 17], ['user.42', 0]]));
    expect(parseCursor('')).toBeNull();
    expect(parseCursor(undefined)).toBeNull();
  });

  it.each(['a', '=1', 'a=', 'a=1,', ',a=1', 'a=1,a=2', 'a=x', 'a=-1', 'a=1.5', 'a b=1', 'a=12345678901234567', 'a==1'])(
    'refuses %j with 400 invalid_last_event_id',
    (text) => {
      expect(() => parseCursor(text)).toThrow(AppError);
      try {
        parseCursor(text);
      } catch (error) {
        expect((error as AppError).code).toBe('invalid_last_event_id');
      }
    },
  );

  it('reads back every cursor the hub can write, in any entry order', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}$/);
    fc.assert(
      fc.property(fc.dictionary(name, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), (positions) => {
        const names = sortChannels(Object.keys(positions));
        const text = names.map((channel) => `${channel}=${positions[channel]}`).join(',');
        if (text === '') return;
        expect(parseCursor(text)).toEqual(new Map(names.map((channel) => [channel, positions[channel]])));
      }),
    );
  });

  it('orders channels by byte order and drops repeats', () => {
    expect(sortChannels(['b', 'B', 'a', '_x', 'a', '0'])).toEqual(['0', 'B', '_x', 'a', 'b']);
  });
});

describe('Deadlines', () => {
  it('runs actions in time order with one timer', async () => {
    const deadlines = new Deadlines();
    const ran: number[] = [];
    const now = Date.now();
    const done = new Promise<void>((resolve) => {
      for (const offset of [30, 10, 20, 0, 25]) deadlines.add(now + offset, () => ran.push(offset));
      deadlines.add(now + 40, resolve);
    });
    await done;
    expect(ran).toEqual([0, 10, 20, 25, 30]);
    expect(deadlines.size).toBe(0);
    deadlines.stop();
  });

  it('runs actions due at the same time in the order they were added (a reauth before its end)', async () => {
    const deadlines = new Deadlines();
    const ran: string[] = [];
    const at = Date.now() - 1;
    const done = new Promise<void>((resolve) => {
      // Enough of them that a heap without a tie-breaker reorders some (it did for these).
      for (let index = 0; index < 40; index++) {
        deadlines.add(at, () => ran.push(`reauth ${index}`));
        deadlines.add(at, () => ran.push(`end ${index}`));
      }
      deadlines.add(at + 5, resolve);
    });
    await done;
    expect(ran).toEqual(Array.from({ length: 40 }, (_, index) => [`reauth ${index}`, `end ${index}`]).flat());
    deadlines.stop();
  });
});

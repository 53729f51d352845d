import fc from 'fast-check';
import { InvalidCursorError, parseCursor, sortChannels } from '../../src/hub/cursor';

describe('the multi-channel cursor', () => {
  it('parses name=id entries into resume points and treats empty as absent', () => {
    expect(parseCursor('orders.eu=17,user.42=0')).toEqual(new Map([['orders.eu', 17], ['user.42', 0]]));
    expect(parseCursor('')).toBeNull();
    expect(parseCursor(undefined)).toBeNull();
  });

  it.each(['a', '=1', 'a=', 'a=1,', ',a=1', 'a=1,a=2', 'a=x', 'a=-1', 'a=1.5', 'a b=1', 'a=12345678901234567', 'a==1'])(
    'refuses %j with a plain InvalidCursorError (the route answers it, not the parser)',
    (text) => {
      expect(() => parseCursor(text)).toThrow(InvalidCursorError);
      expect(() => parseCursor(text)).toThrow(/^Last-Event-ID must be a /);
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

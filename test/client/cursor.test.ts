import { formatCursor, parseCursor } from '../../client/src/cursor.js';

describe('cursor', () => {
  it('formats names in byte order, joined by commas', () => {
    const positions = new Map([
      ['user.42', '1795631400000000'],
      ['orders.eu', '1795631322281007'],
      ['Orders', '3'],
    ]);
    expect(formatCursor(positions)).toBe('Orders=3,orders.eu=1795631322281007,user.42=1795631400000000');
  });

  it('keeps only the given channels, and skips channels without a position', () => {
    expect(formatCursor(new Map([['a', '1'], ['b', '2']]), ['b', 'c'])).toBe('b=2');
  });

  it('round-trips and treats empty or absent as no positions', () => {
    expect([...parseCursor('a=1,b.c:d-e_f=0')]).toEqual([
      ['a', '1'],
      ['b.c:d-e_f', '0'],
    ]);
    expect(parseCursor('').size).toBe(0);
    expect(parseCursor(undefined).size).toBe(0);
    expect(formatCursor(parseCursor('z=9,a=1'))).toBe('a=1,z=9');
  });

  it('normalizes leading zeros so equal positions compare equal', () => {
    expect(parseCursor('a=007').get('a')).toBe('7');
  });

  it.each(['a', 'a=', '=1', 'a=x', 'a=1,a=2', 'a=1,', '-a=1', 'a=12345678901234567', 'a=1;b=2'])('refuses the malformed cursor %p', (cursor) => {
    expect(() => parseCursor(cursor)).toThrow(TypeError);
  });
});

import { readConfig } from '../../src/config';
import { patternProblem, trackedChannels } from '../../src/presence/tracked-channels';

describe('PRESENCE_CHANNELS patterns', () => {
  it.each([
    ['orders.*', 'orders.eu', true],
    ['orders.*', 'orders', false],
    ['orders.*', 'orders.eu.x', false],
    ['room.**', 'room.a', true],
    ['room.**', 'room.a.b', true],
    ['room.**', 'room', false],
    ['**', 'anything.at.all', true],
    ['user.{sub}.*', 'user.42.inbox', false],
    ['lobby', 'lobby', true],
    ['lobby', 'lobby2', false],
  ])('%s matches %s: %s', (pattern, channel, expected) => {
    expect(trackedChannels([pattern])(channel)).toBe(expected);
  });

  it('always tracks chat, and an empty list tracks nothing else', () => {
    const isTracked = trackedChannels([]);
    expect(isTracked('chat')).toBe(true);
    expect(isTracked('room.a')).toBe(false);
  });

  it.each(['a..b', 'e*', '{sub}x', '{user}', '**.a', 'a.**.b', 'a b', 'a/b', ''])('refuses the malformed pattern %j', (pattern) => {
    expect(patternProblem(pattern)).not.toBeNull();
  });

  it('stops the start on a malformed PRESENCE_CHANNELS or PRESENCE_REFRESH_MS, naming the variable', () => {
    expect(() => readConfig({ PRESENCE_CHANNELS: 'room.**,a..b' })).toThrow(/^PRESENCE_CHANNELS="a\.\.b" is invalid/);
    expect(() => readConfig({ PRESENCE_REFRESH_MS: '20000' })).toThrow(/^PRESENCE_REFRESH_MS="20000" is invalid/);
    expect(readConfig({}).presenceRefreshMs).toBe(15_000);
    expect(readConfig({ PRESENCE_CHANNELS: ' room.*, desk.** ' }).presenceChannels).toEqual(['room.*', 'desk.**']);
  });
});

import { PatternList } from '../../src/access/patterns';
import { readConfig } from '../../src/config';
import { trackedChannels } from '../../src/presence/tracked-channels';

describe('PRESENCE_CHANNELS', () => {
  it.each([
    ['room.*', 'room.a', true],
    ['room.*', 'room', false],
    ['room.*', 'room.a.b', false],
    ['desk.**', 'desk.eu.1', true],
    ['user.{sub}.*', 'user.42.inbox', false],
  ])('%s tracks %s: %s', (pattern, channel, expected) => {
    expect(trackedChannels(PatternList.compile([pattern]))(channel)).toBe(expected);
  });

  it('always tracks chat, and an empty list tracks nothing else', () => {
    const isTracked = trackedChannels(readConfig({}).presenceChannels);
    expect(isTracked('chat')).toBe(true);
    expect(isTracked('room.a')).toBe(false);
  });

  it('stops the start on a malformed PRESENCE_CHANNELS or PRESENCE_REFRESH_MS, naming the variable', () => {
    expect(() => readConfig({ PRESENCE_CHANNELS: 'room.**,a..b' })).toThrow(/^PRESENCE_CHANNELS: "a\.\.b" is not a valid channel pattern/);
    expect(() => readConfig({ PRESENCE_REFRESH_MS: '20000' })).toThrow(/^PRESENCE_REFRESH_MS="20000" is invalid/);
    expect(readConfig({}).presenceRefreshMs).toBe(15_000);
    expect(readConfig({ PRESENCE_CHANNELS: ' room.*, desk.** ' }).presenceChannels.sources).toEqual(['room.*', 'desk.**']);
  });
});

import { copyFileSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatternList } from '../../src/access/patterns';
import { loadChannelsConfig, MAX_DETAILS, Namespaces, validateEvent, type NamespaceDefaults } from '../../src/namespaces';
import { trackedChannels } from '../../src/presence/tracked-channels';

const EXAMPLE = join(__dirname, '../../deploy/channels.example.yaml');
const FIXTURE = join(__dirname, '../fixtures/namespaces/channels.json');

const defaults: NamespaceDefaults = {
  historySize: 1000,
  historyTtlS: 604_800,
  maxEventBytes: 65_536,
  publicChannels: PatternList.compile(['public.**']),
  presenceChannels: trackedChannels(PatternList.compile(['lobby'])),
};

describe('channel namespaces from the example YAML', () => {
  const namespaces = loadChannelsConfig(EXAMPLE, defaults);

  it('gives a matching channel the namespace options and the environment for the rest', () => {
    expect(namespaces.policy('prices.eurusd')).toMatchObject({
      namespaceIndex: 1,
      historySize: 1,
      historyTtlS: 60,
      public: true,
      presence: false,
      maxEventBytes: 2048,
      ephemeral: false,
      strict: true,
    });
    expect(namespaces.policy('user.42.inbox')).toMatchObject({ historySize: 500, historyTtlS: 2_592_000, public: false, maxEventBytes: 65_536 });
    expect(namespaces.policy('room.a.b')).toMatchObject({ namespaceIndex: 4, presence: true, historySize: 1000, historyTtlS: 604_800 });
  });

  it('makes a history: 0 namespace ephemeral', () => {
    expect(namespaces.policy('typing.room.a')).toMatchObject({ historySize: 0, ephemeral: true });
  });

  it('falls back to the environment for a channel no namespace matches', () => {
    expect(namespaces.policy('public.feed')).toEqual(Namespaces.none(defaults).policy('public.feed'));
    expect(namespaces.policy('orders.eu')).toMatchObject({ namespaceIndex: -1, public: false, presence: false, strict: false, historySize: 1000 });
    expect(namespaces.policy('lobby').presence).toBe(true);
  });

  it('validates the chat message the chat route posts', () => {
    const policy = namespaces.policy('chat');
    expect(validateEvent(policy, 'message', { user: 'alice', text: 'hello', ts: new Date().toISOString() })).toBeNull();
    expect(validateEvent(policy, 'message', { user: 'alice', text: 'hello', ts: 'yesterday' })).toMatchObject({ code: 'invalid_data', details: [{ path: '/ts' }] });
  });

  it('loads a $ref relative to the file and validates against it', () => {
    const policy = namespaces.policy('prices.x');
    expect(validateEvent(policy, 'tick', { px: 1.5, bid: 1.4 })).toBeNull();
    expect(validateEvent(policy, 'tick', { px: '1.5' })).toEqual({
      code: 'invalid_data',
      message: 'data does not match the schema of event "tick": /px must be number',
      details: [{ path: '/px', message: 'must be number' }],
    });
  });
});

describe('channel namespaces from JSON', () => {
  const namespaces = loadChannelsConfig(FIXTURE, defaults);

  it('lets the first matching namespace win', () => {
    expect(namespaces.policy('shapes.a')).toMatchObject({ namespaceIndex: 0, historySize: 10 });
    expect(namespaces.policy('shapes.a.b')).toMatchObject({ namespaceIndex: 1, historySize: 20 });
    expect(namespaces.policy('other')).toMatchObject({ namespaceIndex: 2, historySize: 1000, strict: true });
  });

  it('resolves $refs between files, in YAML and JSON, with fragments and cycles', () => {
    const policy = namespaces.policy('shapes.a');
    const point = { x: 1, y: 2, next: { x: 3, y: 4, next: null } };
    expect(validateEvent(policy, 'shape', { name: 'tri', points: [point] })).toBeNull();
    expect(validateEvent(policy, 'shape', { name: 'tri', points: [{ x: 1, y: 2, next: { x: 3000, y: 4 } }] })).toMatchObject({
      code: 'invalid_data',
      details: expect.arrayContaining([{ path: '/points/0/next/x', message: 'must be <= 1000' }]) as unknown,
    });
  });

  it('reports every problem as a JSON pointer into the data, at most 10', () => {
    const policy = namespaces.policy('shapes.a');
    const points = Array.from({ length: 15 }, () => ({ x: 'a', y: 'b' }));
    const rejection = validateEvent(policy, 'shape', { points });
    expect(rejection?.code).toBe('invalid_data');
    expect(rejection?.details).toHaveLength(MAX_DETAILS);
    expect(rejection?.details?.[0]).toEqual({ path: '/name', message: "must have required property 'name'" });
    for (const detail of rejection?.details ?? []) expect(detail.path).toMatch(/^(\/[^/]+)+$/);
  });

  it('lets a non-strict namespace take unlisted events, with any data', () => {
    expect(validateEvent(namespaces.policy('shapes.a'), 'other', { anything: true })).toBeNull();
  });

  it('refuses an unlisted event on a strict namespace, naming the allowed ones', () => {
    const rejection = validateEvent(namespaces.policy('other'), 'message', 'hi');
    expect(rejection).toEqual({ code: 'unknown_event', message: 'event "message" is not listed for this channel (allowed: note)' });
    expect(validateEvent(namespaces.policy('other'), 'note', 'hi')).toBeNull();
  });
});

describe('Namespaces.none', () => {
  it('behaves exactly like the environment settings', () => {
    const none = Namespaces.none(defaults);
    expect(none.fingerprint).toBeNull();
    expect(none.policy('public.a.b')).toEqual({
      namespaceIndex: -1,
      historySize: 1000,
      historyTtlS: 604_800,
      public: true,
      presence: false,
      maxEventBytes: 65_536,
      ephemeral: false,
      strict: false,
      events: new Map(),
    });
    expect(none.policy('chat').presence).toBe(true);
    expect(validateEvent(none.policy('x'), 'anything', { any: 'data' })).toBeNull();
  });
});

describe('presence of the chat', () => {
  it('stays tracked even when a namespace turns presence off for it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-ns-chat-'));
    try {
      writeFileSync(join(dir, 'c.json'), JSON.stringify({ namespaces: [{ pattern: '*', presence: false }] }));
      const namespaces = loadChannelsConfig(join(dir, 'c.json'), { ...defaults, presenceChannels: PatternList.EMPTY });
      expect(namespaces.policy('chat').presence).toBe(true);
      expect(namespaces.policy('lobby').presence).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the policy cache', () => {
  it('resolves a channel once and returns the same policy after', () => {
    const namespaces = loadChannelsConfig(FIXTURE, defaults);
    const first = namespaces.policy('shapes.a');
    expect(namespaces.policy('shapes.a')).toBe(first);
    expect(namespaces.cachedPolicies).toBe(1);
  });

  it('stays bounded however many channels are looked up', () => {
    const namespaces = Namespaces.none(defaults);
    for (let index = 0; index < 25_000; index++) namespaces.policy(`c${index}`);
    expect(namespaces.cachedPolicies).toBeLessThanOrEqual(10_000);
    expect(namespaces.policy('c24999').historySize).toBe(1000);
  });
});

describe('the fingerprint', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssehub-ns-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function copyExample(into: string): string {
    mkdirSync(join(into, 'schemas'), { recursive: true });
    copyFileSync(join(__dirname, '../../deploy/schemas/tick.json'), join(into, 'schemas/tick.json'));
    copyFileSync(EXAMPLE, join(into, 'channels.yaml'));
    return join(into, 'channels.yaml');
  }

  it('is 12 hex digits, equal for the same content anywhere', () => {
    const print = loadChannelsConfig(EXAMPLE, defaults).fingerprint;
    expect(print).toMatch(/^[0-9a-f]{12}$/);
    expect(loadChannelsConfig(copyExample(dir), defaults).fingerprint).toBe(print);
  });

  it('differs for different files, including a change in a referenced schema only', () => {
    const path = copyExample(dir);
    const before = loadChannelsConfig(path, defaults).fingerprint;
    writeFileSync(join(dir, 'schemas/tick.json'), JSON.stringify({ type: 'object', required: ['px', 'qty'] }));
    const afterSchema = loadChannelsConfig(path, defaults).fingerprint;
    writeFileSync(path, 'namespaces: [{ pattern: "prices.*", history: 2 }]');
    const afterFile = loadChannelsConfig(path, defaults).fingerprint;
    expect(new Set([before, afterSchema, afterFile, loadChannelsConfig(FIXTURE, defaults).fingerprint]).size).toBe(4);
  });
});

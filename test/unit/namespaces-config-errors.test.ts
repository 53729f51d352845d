import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatternList } from '../../src/access/patterns';
import { ConfigError } from '../../src/errors';
import { loadChannelsConfig, type NamespaceDefaults } from '../../src/namespaces';

const defaults: NamespaceDefaults = {
  historySize: 1000,
  historyTtlS: 604_800,
  maxEventBytes: 65_536,
  publicChannels: PatternList.compile(['**']),
  presenceChannels: PatternList.EMPTY,
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssehub-ns-errors-'));
  writeFileSync(join(dir, 'ok.json'), '{"type":"number"}');
  writeFileSync(join(dir, 'broken.json'), '{"type":');
  writeFileSync(join(dir, 'dangling.json'), '{"$ref":"#/$defs/nothing"}');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ConfigError message that loading `content` (written as `name`) stops the start with. */
function errorOf(content: string, name = 'channels.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  try {
    loadChannelsConfig(path, defaults);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message.startsWith(`CHANNELS_CONFIG=${path} is invalid`)).toBe(true);
    return message.slice(`CHANNELS_CONFIG=${path} is invalid`.length);
  }
  throw new Error('the file was accepted');
}

function yamlWith(namespace: string): string {
  return `namespaces:\n  - pattern: "a.*"\n  - pattern: "b"\n  - ${namespace}\n`;
}

describe('a malformed CHANNELS_CONFIG stops the start with one line naming the place', () => {
  it('refuses a file that cannot be read', () => {
    expect(() => loadChannelsConfig(join(dir, 'missing.yaml'), defaults)).toThrow(`CHANNELS_CONFIG=${join(dir, 'missing.yaml')} is invalid: the file cannot be read (ENOENT)`);
  });

  it('refuses a file that is not YAML', () => {
    expect(errorOf('namespaces: [ { pattern: "a" ')).toMatch(/^: the file is not valid YAML: /);
  });

  it('refuses a file that is not JSON', () => {
    expect(errorOf('{"namespaces": [', 'channels.json')).toMatch(/^: the file is not valid JSON: /);
  });

  it('refuses a file that holds no object', () => {
    expect(errorOf('')).toBe(': the file must hold an object with a "namespaces" list, not null');
  });

  it('refuses an unknown top-level key', () => {
    expect(errorOf('namespaces: []\nnamespace: []\n')).toBe(' at namespace: unknown key (known: namespaces)');
  });

  it('refuses namespaces that are not a list', () => {
    expect(errorOf('namespaces: { pattern: a }')).toBe(' at namespaces: must be a list of namespaces, not an object');
  });

  it('refuses a namespace that is not an object', () => {
    expect(errorOf(yamlWith('"c.*"'))).toBe(' at namespaces[2]: must be an object, not string "c.*"');
  });

  it('refuses an unknown namespace key', () => {
    expect(errorOf(yamlWith('{ pattern: c, histroy: 5 }'))).toMatch(/^ at namespaces\[2\]\.histroy: unknown key \(known: pattern, /);
  });

  it('refuses a namespace without a pattern', () => {
    expect(errorOf(yamlWith('{ history: 5 }'))).toBe(' at namespaces[2]: has no pattern (required)');
  });

  it('refuses a pattern that is not a string', () => {
    expect(errorOf(yamlWith('{ pattern: 12 }'))).toBe(' at namespaces[2].pattern: must be a string, not number 12');
  });

  it('refuses a malformed pattern', () => {
    expect(errorOf(yamlWith('{ pattern: "a.**.b" }'))).toBe(' at namespaces[2].pattern: "a.**.b" is not a valid channel pattern: ** may only be the last segment');
  });

  it('refuses {sub} in a pattern', () => {
    expect(errorOf(yamlWith('{ pattern: "user.{sub}" }'))).toBe(' at namespaces[2].pattern: "user.{sub}" uses {sub}, which a namespace cannot (it has no token)');
  });

  it('refuses a boolean option of another type', () => {
    expect(errorOf(yamlWith('{ pattern: c, public: "yes" }'))).toBe(' at namespaces[2].public: must be true or false, not string "yes"');
  });

  it('refuses a history out of range', () => {
    expect(errorOf(yamlWith('{ pattern: c, history: 100001 }'))).toBe(' at namespaces[2].history: must be an integer from 0 to 100000, not number 100001');
  });

  it('refuses a history that is not an integer', () => {
    expect(errorOf(yamlWith('{ pattern: c, history: 1.5 }'))).toBe(' at namespaces[2].history: must be an integer from 0 to 100000, not number 1.5');
  });

  it('refuses a negative historyTtl', () => {
    expect(errorOf(yamlWith('{ pattern: c, historyTtl: -1 }'))).toMatch(/^ at namespaces\[2\]\.historyTtl: must be an integer from 0 to \d+, not number -1$/);
  });

  it('refuses a maxEventBytes over MAX_EVENT_BYTES', () => {
    expect(errorOf(yamlWith('{ pattern: c, maxEventBytes: 65537 }'))).toBe(' at namespaces[2].maxEventBytes: must be an integer from 1 to 65536, not number 65537');
  });

  it('refuses a maxEventBytes of 0', () => {
    expect(errorOf(yamlWith('{ pattern: c, maxEventBytes: 0 }'))).toBe(' at namespaces[2].maxEventBytes: must be an integer from 1 to 65536, not number 0');
  });

  it('refuses a description that is not a string', () => {
    expect(errorOf(yamlWith('{ pattern: c, description: [a] }'))).toBe(' at namespaces[2].description: must be a string, not a list');
  });

  it('refuses events that are not a map', () => {
    expect(errorOf(yamlWith('{ pattern: c, events: [tick] }'))).toBe(' at namespaces[2].events: must be a map of event name to JSON Schema, not a list');
  });

  it('refuses an invalid event name', () => {
    expect(errorOf(yamlWith('{ pattern: c, events: { "1tick": {} } }'))).toMatch(/^ at namespaces\[2\]\.events\["1tick"\]: "1tick" is not a valid event name/);
  });

  it('refuses a reserved hub. event name', () => {
    expect(errorOf(yamlWith('{ pattern: c, events: { hub.gap: {} } }'))).toMatch(/^ at namespaces\[2\]\.events\["hub.gap"\]: "hub.gap" is not a valid event name/);
  });

  it('refuses an event schema that is not an object', () => {
    expect(errorOf(yamlWith('{ pattern: c, events: { tick: number } }'))).toBe(' at namespaces[2].events.tick: must be a JSON Schema object ({} allows any data), not string "number"');
  });

  it('refuses a schema that does not compile', () => {
    expect(errorOf(yamlWith('{ pattern: c, events: { tick: { type: numbr } } }'))).toMatch(/^ at namespaces\[2\]\.events\.tick: the schema does not compile: schema is invalid: data\/type must be equal to one of the allowed values/);
  });

  it('refuses a $ref to a file that does not exist', () => {
    expect(errorOf(yamlWith('{ pattern: c, events: { tick: { $ref: "./nope.json" } } }'))).toBe(' at namespaces[2].events.tick: $ref to "nope.json" cannot be read (ENOENT)');
  });

  it('refuses a $ref to a file that does not parse', () => {
    expect(errorOf(yamlWith('{ pattern: c, events: { tick: { $ref: "./broken.json" } } }'))).toMatch(/^ at namespaces\[2\]\.events\.tick: \$ref to "broken.json" is not valid JSON: /);
  });

  it('refuses a $ref whose pointer leads nowhere', () => {
    expect(errorOf(yamlWith('{ pattern: c, events: { tick: { $ref: "./ok.json#/$defs/missing" } } }'))).toMatch(/^ at namespaces\[2\]\.events\.tick: the schema does not compile: can't resolve reference/);
  });

  it('refuses a $ref inside a referenced file that leads nowhere', () => {
    expect(errorOf(yamlWith('{ pattern: c, events: { tick: { $ref: "./dangling.json" } } }'))).toMatch(/^ at namespaces\[2\]\.events\.tick: the schema does not compile: can't resolve reference/);
  });

  it('refuses a remote $ref', () => {
    expect(errorOf(yamlWith('{ pattern: c, events: { tick: { $ref: "https://example.com/tick.json" } } }'))).toBe(
      ' at namespaces[2].events.tick: $ref "https://example.com/tick.json": only paths relative to the file are supported',
    );
  });
});

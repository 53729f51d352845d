import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { compilePattern, PatternError, type ChannelPattern } from '../access/patterns';
import { ConfigError } from '../errors';
import { EVENT_NAME_PATTERN, isPublishableEventName } from '../event';
import { Namespaces, type EventContract, type Namespace, type NamespaceDefaults } from './namespaces';
import { BundleError, bundleSchema, canonicalJson, isJsonObject, readJsonOrYaml, type JsonSchema } from './schema-bundle';

/** History lengths a namespace may ask for (API.md: 0–100000; 0 = ephemeral). */
export const MAX_NAMESPACE_HISTORY = 100_000;
// The same ceiling HISTORY_TTL_S has: ten years.
const MAX_HISTORY_TTL_S = 10 * 365 * 86_400;

const TOP_KEYS = new Set(['namespaces']);
const NAMESPACE_KEYS = new Set(['pattern', 'public', 'presence', 'history', 'historyTtl', 'maxEventBytes', 'events', 'strict', 'description']);

type Fail = (place: string, what: string) => never;

function childPlace(place: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${place}.${key}` : `${place}[${JSON.stringify(key)}]`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function optionalBoolean(entry: JsonSchema, key: string, place: string, fail: Fail): boolean | undefined {
  const value = entry[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(`${place}.${key}`, `must be true or false, not ${describe(value)}`);
  return value;
}

function optionalInteger(entry: JsonSchema, key: string, place: string, range: [number, number], fail: Fail): number | undefined {
  const value = entry[key];
  if (value === undefined) return undefined;
  const [min, max] = range;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${place}.${key}`, `must be an integer from ${min} to ${max}, not ${describe(value)}`);
  }
  return value;
}

function patternOf(entry: JsonSchema, place: string, fail: Fail): ChannelPattern {
  const source = entry.pattern;
  if (source === undefined) fail(place, 'has no pattern (required)');
  if (typeof source !== 'string') fail(`${place}.pattern`, `must be a string, not ${describe(source)}`);
  let pattern: ChannelPattern;
  try {
    pattern = compilePattern(source);
  } catch (error) {
    if (error instanceof PatternError) fail(`${place}.pattern`, error.message);
    throw error;
  }
  if (pattern.segments.some((segment) => segment.kind === 'sub')) {
    fail(`${place}.pattern`, `${JSON.stringify(source)} uses {sub}, which a namespace cannot (it has no token)`);
  }
  return pattern;
}

interface LoadContext {
  readonly ajv: Ajv2020;
  readonly baseDir: string;
  readonly fail: Fail;
}

function eventsOf(entry: JsonSchema, place: string, context: LoadContext): Map<string, EventContract> {
  const events = new Map<string, EventContract>();
  const value = entry.events;
  if (value === undefined) return events;
  if (!isJsonObject(value)) context.fail(`${place}.events`, `must be a map of event name to JSON Schema, not ${describe(value)}`);
  for (const [name, raw] of Object.entries(value)) {
    const where = childPlace(`${place}.events`, name);
    if (!isPublishableEventName(name)) {
      context.fail(where, `${JSON.stringify(name)} is not a valid event name (${EVENT_NAME_PATTERN.source}, not starting with "hub.")`);
    }
    if (!isJsonObject(raw)) context.fail(where, `must be a JSON Schema object ({} allows any data), not ${describe(raw)}`);
    let schema: JsonSchema;
    try {
      schema = bundleSchema(raw, context.baseDir);
    } catch (error) {
      if (error instanceof BundleError) context.fail(where, error.message);
      throw error;
    }
    try {
      events.set(name, { name, schema, validate: context.ajv.compile(schema) });
    } catch (error) {
      context.fail(where, `the schema does not compile: ${(error as Error).message.split('\n')[0] ?? ''}`);
    }
  }
  return events;
}

function namespaceOf(entry: unknown, index: number, context: LoadContext, maxEventBytes: number): Namespace {
  const place = `namespaces[${index}]`;
  const fail: Fail = context.fail;
  if (!isJsonObject(entry)) fail(place, `must be an object, not ${describe(entry)}`);
  for (const key of Object.keys(entry)) if (!NAMESPACE_KEYS.has(key)) fail(childPlace(place, key), `unknown key (known: ${[...NAMESPACE_KEYS].join(', ')})`);
  const description = entry.description;
  if (description !== undefined && typeof description !== 'string') fail(`${place}.description`, `must be a string, not ${describe(description)}`);
  return {
    index,
    pattern: patternOf(entry, place, fail),
    public: optionalBoolean(entry, 'public', place, fail),
    presence: optionalBoolean(entry, 'presence', place, fail),
    history: optionalInteger(entry, 'history', place, [0, MAX_NAMESPACE_HISTORY], fail),
    historyTtl: optionalInteger(entry, 'historyTtl', place, [0, MAX_HISTORY_TTL_S], fail),
    maxEventBytes: optionalInteger(entry, 'maxEventBytes', place, [1, maxEventBytes], fail),
    strict: optionalBoolean(entry, 'strict', place, fail) ?? false,
    description,
    events: eventsOf(entry, place, context),
  };
}

/** A fresh validator compiler: JSON Schema 2020-12, formats, every error collected (for the details). */
export function createSchemaCompiler(): Ajv2020 {
  // strict: false because user schemas may carry annotations ajv does not know; the meta-schema still applies.
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv;
}

/**
 * Reads and validates CHANNELS_CONFIG (JSON, or YAML for `.yaml` / `.yml`): patterns compiled,
 * `$ref`s (paths relative to the file) loaded, every event schema compiled once. Throws a
 * ConfigError whose one-line message names CHANNELS_CONFIG, the place in the file
 * (`namespaces[2].events.tick`) and what is wrong; the start must stop on it.
 * `defaults.maxEventBytes` (MAX_EVENT_BYTES) bounds every namespace's `maxEventBytes`.
 * Synchronous: it runs once at start, before the server listens.
 */
export function loadChannelsConfig(path: string, defaults: NamespaceDefaults): Namespaces {
  const fail: Fail = (place, what) => {
    throw new ConfigError(`CHANNELS_CONFIG=${path} is invalid${place === '' ? '' : ` at ${place}`}: ${what}`);
  };
  let document: unknown;
  try {
    document = readJsonOrYaml(path);
  } catch (error) {
    if (error instanceof BundleError) fail('', `the file ${error.message}`);
    throw error;
  }
  if (!isJsonObject(document)) fail('', `the file must hold an object with a "namespaces" list, not ${describe(document)}`);
  for (const key of Object.keys(document)) if (!TOP_KEYS.has(key)) fail(childPlace('', key).replace(/^\./, ''), 'unknown key (known: namespaces)');
  const entries = document.namespaces;
  if (!Array.isArray(entries)) fail('namespaces', `must be a list of namespaces, not ${describe(entries)}`);
  const context: LoadContext = { ajv: createSchemaCompiler(), baseDir: dirname(resolve(path)), fail };
  const list = entries.map((entry, index) => namespaceOf(entry, index, context, defaults.maxEventBytes));
  return new Namespaces(list, defaults, fingerprintOf(list), path);
}

/**
 * First 12 hex digits of the sha256 of the namespaces as loaded (options and self-contained
 * schemas, keys sorted): equal files give equal prints wherever they are deployed, and a
 * change in a referenced schema file changes the print.
 */
export function fingerprintOf(list: readonly Namespace[]): string {
  const canonical = canonicalJson(
    list.map((namespace) => ({
      pattern: namespace.pattern.source,
      public: namespace.public ?? null,
      presence: namespace.presence ?? null,
      history: namespace.history ?? null,
      historyTtl: namespace.historyTtl ?? null,
      maxEventBytes: namespace.maxEventBytes ?? null,
      strict: namespace.strict,
      description: namespace.description ?? null,
      events: Object.fromEntries([...namespace.events].map(([name, contract]) => [name, contract.schema])),
    })),
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

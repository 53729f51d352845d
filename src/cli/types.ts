import { writeFileSync } from 'node:fs';
import { compile } from 'json-schema-to-typescript';
import type { JSONSchema4 } from 'json-schema';
import { PatternList } from '../access/patterns';
import { ConfigError } from '../errors';
import { loadChannelsConfig } from '../namespaces/load';
import type { Namespace } from '../namespaces/namespaces';
import { DATA_KEYWORDS, isJsonObject, type JsonSchema } from '../namespaces/schema-bundle';

const USAGE = 'usage: ssehub types [--config FILE] [--out FILE]  (default config: $CHANNELS_CONFIG; default out: stdout)';

interface TypesArgs {
  readonly config: string | undefined;
  readonly out: string | undefined;
}

/** Parses `--config FILE`, `--config=FILE`, `--out FILE`, `--out=FILE`; throws a one-line usage error. */
function parseArgs(args: readonly string[]): TypesArgs {
  const values: Record<string, string | undefined> = { config: undefined, out: undefined };
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const match = /^--(config|out)(?:=(.*))?$/.exec(arg);
    if (match === null) throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    const name = match[1] as string;
    const value = match[2] ?? args[++index];
    if (value === undefined || value === '') throw new Error(`--${name} needs a file`);
    values[name] = value;
  }
  return { config: values.config, out: values.out };
}

function pascalCase(words: readonly string[]): string {
  return words
    .flatMap((word) => word.split(/[^A-Za-z0-9]+/))
    .filter((word) => word !== '')
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join('');
}

/** The TypeScript key type of a namespace's channels: a literal, or a template literal for wildcards. */
export function channelKeyType(namespace: Namespace): string {
  const parts = namespace.pattern.segments.map((segment) => (segment.kind === 'literal' ? segment.text : '${string}'));
  if (namespace.pattern.openEnded) parts.push('${string}');
  const text = parts.join('.');
  return text.includes('${') ? `\`${text}\`` : JSON.stringify(text);
}

/**
 * The event schema as root-level definitions: the schema itself under `name` and each of its
 * `$defs` beside it as `name__key`, with every `#…` reference rewritten to match. (The code
 * generator's resolver mishandles references into a definition's own nested `$defs`.)
 */
function hoisted(schema: JsonSchema, name: string): Record<string, unknown> {
  const { $defs, $schema: _schema, $id: _id, ...body } = schema;
  void _schema;
  void _id;
  const defs = isJsonObject($defs) ? $defs : {};
  const keys = Object.keys(defs);
  // A schema that only points at another file's schema becomes that schema, named after the event.
  const only = Object.keys(body).length === 1 && typeof body.$ref === 'string' ? keys.find((key) => body.$ref === `#/$defs/${key}`) : undefined;
  const target = (key: string): string => (key === only ? name : `${name}__${key}`);
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!isJsonObject(node)) return node;
    const copy: JsonSchema = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#')) {
        const def = keys.find((candidate) => value === `#/$defs/${candidate}` || value.startsWith(`#/$defs/${candidate}/`));
        copy[key] = def === undefined ? `#/$defs/${name}${value.slice(1)}` : `#/$defs/${target(def)}${value.slice(`#/$defs/${def}`.length)}`;
      } else copy[key] = DATA_KEYWORDS.has(key) ? value : rewrite(value);
    }
    return copy;
  };
  const main = only === undefined ? body : defs[only];
  const result: Record<string, unknown> = { [name]: { ...(rewrite(main) as JsonSchema), title: name } };
  for (const key of keys) if (key !== only) result[`${name}__${key}`] = rewrite(defs[key]);
  return result;
}

/**
 * The declarations `ssehub types` writes: one type per listed event's data (named after the
 * pattern's literal segments and the event, e.g. `PricesTick`), and `Events`, the map from
 * channel names to `{ [event]: DataType }` that `new SseHubClient<Events>()` takes. Namespaces
 * are intersected, so a channel two patterns match gets both maps (first-match-wins is not
 * expressible in types); a namespace without events maps to `Record<string, unknown>`.
 */
export async function generateTypes(namespaces: readonly Namespace[]): Promise<string> {
  const defs: Record<string, unknown> = {};
  const used = new Set<string>();
  const entries: string[] = [];
  const names: string[] = [];
  for (const namespace of namespaces) {
    const fields: string[] = [];
    for (const [event, contract] of namespace.events) {
      const literal = namespace.pattern.segments.flatMap((segment) => (segment.kind === 'literal' ? [segment.text] : []));
      let name = pascalCase([...literal, event]) || 'Event';
      if (/^[0-9]/.test(name) || used.has(name)) name = `${name}${namespace.index}`;
      used.add(name);
      names.push(name);
      Object.assign(defs, hoisted(contract.schema, name));
      fields.push(`${JSON.stringify(event)}: ${name};`);
    }
    const value = fields.length === 0 ? 'Record<string, unknown>' : `{ ${fields.join(' ')} }`;
    entries.push(`  /** ${namespace.pattern.source} */\n  & { [channel in ${channelKeyType(namespace)}]: ${value} }`);
  }
  const root: JSONSchema4 = {
    title: 'EventPayloads',
    description: 'Every event payload type by name.',
    type: 'object',
    properties: Object.fromEntries(names.map((name) => [name, { $ref: `#/$defs/${name}` }])),
    required: names,
    additionalProperties: false,
    $defs: defs,
  };
  const payloads = await compile(root, 'EventPayloads', { bannerComment: '', additionalProperties: true, unknownAny: true, format: false, maxItems: -1 });
  const events = entries.length === 0 ? 'export type Events = Record<string, Record<string, unknown>>;' : `export type Events =\n${entries.join('\n')};`;
  return [
    '/* Generated by `ssehub types` from CHANNELS_CONFIG. Do not edit; run it again after changing the file. */',
    '/* eslint-disable */',
    payloads.trim(),
    '',
    '/** Event payload types by channel, then event name: `new SseHubClient<Events>()`. */',
    events,
    '',
  ].join('\n');
}

/**
 * `ssehub types [--config FILE] [--out FILE]`: writes the TypeScript declarations of the
 * namespaces' events (see `generateTypes`). Resolves with the exit code: 0 written, 1 the
 * config is invalid or the output cannot be written, 2 a usage error. Messages go to stderr.
 */
export async function runTypesCommand(args: string[]): Promise<number> {
  let parsed: TypesArgs;
  try {
    parsed = parseArgs(args);
  } catch (error) {
    process.stderr.write(`ssehub types: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const config = parsed.config ?? process.env.CHANNELS_CONFIG;
  if (config === undefined || config === '') {
    process.stderr.write(`ssehub types: no channels file: pass --config FILE or set CHANNELS_CONFIG\n${USAGE}\n`);
    return 2;
  }
  try {
    // Event types do not depend on the environment's limits, so any maxEventBytes is accepted here.
    const defaults = { historySize: 0, historyTtlS: 0, maxEventBytes: Number.MAX_SAFE_INTEGER, publicChannels: PatternList.EMPTY, presenceChannels: PatternList.EMPTY };
    const text = await generateTypes(loadChannelsConfig(config, defaults).list);
    if (parsed.out === undefined) process.stdout.write(text);
    else writeFileSync(parsed.out, text);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError) && !(error as NodeJS.ErrnoException).code) throw error;
    process.stderr.write(`ssehub types: ${(error as Error).message}\n`);
    return 1;
  }
}

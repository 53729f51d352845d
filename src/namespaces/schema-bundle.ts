import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** A JSON Schema object as read from a file: plain JSON values only. */
export type JsonSchema = { [key: string]: unknown };

/** A schema or file that cannot be used; `message` says why, without the place (the caller adds it). */
export class BundleError extends Error {
  override readonly name = 'BundleError';
}

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a JSON file, or YAML when the name ends in `.yaml` / `.yml`. Throws BundleError with one line. */
export function readJsonOrYaml(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BundleError(`cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const yaml = /^\.ya?ml$/i.test(extname(path));
  try {
    return yaml ? (parseYaml(text) as unknown) : (JSON.parse(text) as unknown);
  } catch (error) {
    // YAML errors carry a code frame on further lines; the first line says what and where.
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
    throw new BundleError(`is not valid ${yaml ? 'YAML' : 'JSON'}: ${first}`);
  }
}

// Keywords whose values are data, not schemas: a `$ref` key inside them is not a reference.
export const DATA_KEYWORDS: ReadonlySet<string> = new Set(['const', 'enum', 'default', 'examples', 'example']);
const REMOTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * Makes an event schema self-contained: every `$ref` to another file (a path relative to the
 * file holding the reference) is loaded and placed under the schema's own `$defs`, and the
 * references (including the loaded files' internal `#/…` ones) are rewritten to point there.
 * The result compiles without a loader and can be embedded anywhere its `#` refs are rebased
 * (see `rebaseRefs`). Cycles between files are fine: each file is placed once.
 * Throws BundleError for a remote, anchor-style or unreadable reference.
 */
export function bundleSchema(schema: JsonSchema, baseDir: string): JsonSchema {
  const files = new Map<string, string>();
  const defs: JsonSchema = {};

  const fileKey = (absolute: string): string => {
    const known = files.get(absolute);
    if (known !== undefined) return known;
    const key = `file${files.size}_${basename(absolute).replace(/[^A-Za-z0-9_]/g, '_')}`;
    files.set(absolute, key);
    let content: unknown;
    try {
      content = readJsonOrYaml(absolute);
    } catch (error) {
      throw new BundleError(`$ref to ${JSON.stringify(basename(absolute))} ${(error as Error).message}`);
    }
    if (!isJsonObject(content) && typeof content !== 'boolean') {
      throw new BundleError(`$ref to ${JSON.stringify(basename(absolute))}: the file does not hold a JSON Schema`);
    }
    const rewritten = walk(content, key, dirname(absolute));
    if (isJsonObject(rewritten)) {
      // Its own identity would change the base of the references we just rewrote.
      delete rewritten.$id;
      delete rewritten.$schema;
    }
    defs[key] = rewritten;
    return key;
  };

  const rewriteRef = (ref: string, inFile: string | null, dir: string): string => {
    if (ref.startsWith('#')) {
      if (ref !== '#' && !ref.startsWith('#/')) throw new BundleError(`$ref ${JSON.stringify(ref)}: only JSON-pointer fragments are supported`);
      return inFile === null ? ref : `#/$defs/${inFile}${ref.slice(1)}`;
    }
    if (REMOTE.test(ref)) throw new BundleError(`$ref ${JSON.stringify(ref)}: only paths relative to the file are supported`);
    const hash = ref.indexOf('#');
    const filePart = hash < 0 ? ref : ref.slice(0, hash);
    const fragment = hash < 0 ? '' : ref.slice(hash + 1);
    if (fragment !== '' && !fragment.startsWith('/')) throw new BundleError(`$ref ${JSON.stringify(ref)}: only JSON-pointer fragments are supported`);
    return `#/$defs/${fileKey(resolve(dir, filePart))}${fragment}`;
  };

  const walk = (node: unknown, inFile: string | null, dir: string): unknown => {
    if (Array.isArray(node)) return node.map((item) => walk(item, inFile, dir));
    if (!isJsonObject(node)) return node;
    const copy: JsonSchema = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') copy[key] = rewriteRef(value, inFile, dir);
      else copy[key] = DATA_KEYWORDS.has(key) ? value : walk(value, inFile, dir);
    }
    return copy;
  };

  const root = walk(schema, null, baseDir) as JsonSchema;
  if (files.size === 0) return root;
  const ownDefs = isJsonObject(root.$defs) ? root.$defs : {};
  return { ...root, $defs: { ...ownDefs, ...defs } };
}

/**
 * A copy of a self-contained schema whose `#…` references point into it at `base` (a JSON
 * pointer of where it will be embedded, e.g. `#/components/schemas/x`), for documents that
 * resolve references from their own root (AsyncAPI, a combined schema for code generation).
 */
export function rebaseRefs(schema: unknown, base: string): unknown {
  if (Array.isArray(schema)) return schema.map((item) => rebaseRefs(item, base));
  if (!isJsonObject(schema)) return schema;
  const copy: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#')) copy[key] = `${base}${value.slice(1)}`;
    else copy[key] = DATA_KEYWORDS.has(key) ? value : rebaseRefs(value, base);
  }
  return copy;
}

/** JSON with object keys sorted at every level: the same content always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (!isJsonObject(value)) return JSON.stringify(value) ?? 'null';
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
}

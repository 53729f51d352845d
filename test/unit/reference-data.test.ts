import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig, type Config } from '../../src/config';
import { ERROR_STATUS, type ErrorCode } from '../../src/error-codes';
import { AppError } from '../../src/errors';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The text of the README section under `heading`, up to the next heading of its level. */
function section(heading: string): string {
  const start = README.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "${heading}" section`);
  const level = heading.split(' ', 1)[0] as string;
  const next = README.indexOf(`\n${level} `, start + heading.length + 2);
  return README.slice(start, next < 0 ? undefined : next);
}

/**
 * The configuration tables (every `| variable | default | meaning |` table: the Configuration
 * section's, and those of the sections a setting belongs to): each variable named in a row's
 * first cell, with the row's default cell.
 */
function documentedDefaults(): Map<string, string> {
  const defaults = new Map<string, string>();
  for (const table of README.split('\n| variable | default | meaning |\n').slice(1)) {
    for (const line of table.split('\n')) {
      if (!line.startsWith('|')) break;
      const cells = line.split('|').map((cell) => cell.trim());
      for (const [, name] of (cells[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)) defaults.set(name as string, cells[2] ?? '');
    }
  }
  return defaults;
}

/** Every environment variable readConfig reads, found by giving it an env that records reads. */
function variablesReadConfigKnows(): string[] {
  const read = new Set<string>();
  const env = new Proxy<Record<string, string | undefined>>(
    {},
    {
      get: (_target, name) => {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    },
  );
  readConfig(env);
  return [...read].sort();
}

/** `REDIS_SENTINEL_NAME` -> `redisSentinelName`. */
function fieldOf(variable: string): string {
  return variable.toLowerCase().replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/** Defaults that are not a plain value of the field named after the variable. */
const SPECIAL_DEFAULTS: Readonly<Record<string, string>> = {
  NODE_ENV: 'unset',
  SESSION_KEYS: 'random',
  JWT_SECRET: 'unset',
  JWT_PUBLIC_KEY: 'unset',
  PUBLIC_CHANNELS: '`**`',
  PRESENCE_CHANNELS: 'unset',
};

/** How the README writes `value` as a default. */
function rendered(value: unknown): string {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return 'unset';
  if (Array.isArray(value)) return `\`${value.join(',')}\``;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return `(a default of type ${typeof value}: add it to SPECIAL_DEFAULTS)`;
  return `\`${value}\``;
}

/** The error list: `NNN `code`, `code`…` groups separated by `;`. */
function documentedCodes(): Map<string, number> {
  const bullet = /^- Errors are JSON[^\n]*(?:\n {2}[^\n]*)*/m.exec(section('## The API in short'))?.[0];
  if (bullet === undefined) throw new Error('README.md has no "- Errors are JSON" bullet under "The API in short"');
  const codes = new Map<string, number>();
  for (const [, status, list] of bullet.matchAll(/\b([1-5][0-9]{2}) ((?:`[a-z_]+`(?:,\s*)?)+)/g)) {
    for (const [, code] of (list as string).matchAll(/`([a-z_]+)`/g)) codes.set(code as string, Number(status));
  }
  return codes;
}

describe('reference data: one source, and the README agrees with it', () => {
  it('documents every variable readConfig reads in a README configuration table, with its default', () => {
    const defaults = documentedDefaults();
    const config = readConfig({}) as unknown as Record<string, unknown>;
    const wrong: string[] = [];
    for (const variable of variablesReadConfigKnows()) {
      const cell = defaults.get(variable);
      const expected = SPECIAL_DEFAULTS[variable] ?? rendered(config[fieldOf(variable) as keyof Config]);
      if (cell === undefined) wrong.push(`${variable}: not in the table`);
      else if (!cell.startsWith(expected)) wrong.push(`${variable}: default "${cell}", readConfig({}) gives ${expected}`);
    }
    expect(wrong).toEqual([]);
  });

  it('lists in the README configuration tables no variable readConfig does not read', () => {
    const known = new Set(variablesReadConfigKnows());
    expect([...documentedDefaults().keys()].filter((variable) => !known.has(variable))).toEqual([]);
  });

  it("lists every registry code in the README's error list with its status, and no other", () => {
    const documented = Object.fromEntries(documentedCodes());
    expect(documented).toEqual({ ...ERROR_STATUS });
  });

  it('builds every AppError from a registry code, which gives its status', () => {
    for (const code of Object.keys(ERROR_STATUS) as ErrorCode[]) {
      const error = new AppError(code, 'm');
      expect({ code: error.code, status: error.status }).toEqual({ code, status: ERROR_STATUS[code] });
    }
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { runTypesCommand } from '../../src/cli/types';

// json-schema-to-typescript requires prettier on load, and prettier 3 then starts a dynamic
// import() that jest's VM refuses (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG), crashing the
// worker. The command runs with `format: false`, so prettier is never called: stand it aside.
jest.mock('prettier', () => ({ format: (code: string) => code }));

const ROOT = resolve(__dirname, '../..');
const EXAMPLE = join(ROOT, 'deploy/channels.example.yaml');
const CLIENT = join(ROOT, 'client/src/client');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssehub-types-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Type-checks consumers of the generated `./events` together (one program: tsc's start-up is
 * the cost), as the client's users would; returns each consumer's errors by name.
 */
function typeErrorsOf(sources: Record<string, string>): Record<string, string[]> {
  const files = Object.entries(sources).map(([name, source]) => {
    writeFileSync(join(dir, `${name}.ts`), source);
    return join(dir, `${name}.ts`);
  });
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules/@types')],
    skipLibCheck: true,
  });
  const errors: Record<string, string[]> = Object.fromEntries(Object.keys(sources).map((name) => [name, []]));
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const name = diagnostic.file ? diagnostic.file.fileName.slice(dir.length + 1).replace(/\.ts$/, '') : 'program';
    const line = diagnostic.file ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1 : 0;
    (errors[name] ??= []).push(`${line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`);
  }
  return errors;
}

const consumer = (body: string): string => `
import { SseHubClient } from ${JSON.stringify(CLIENT)};
import type { Events } from './events';
const client = new SseHubClient<Events>({ baseUrl: 'http://127.0.0.1:3000' });
export async function main(): Promise<void> {
${body}
}
`;

describe('ssehub types', () => {
  beforeAll(async () => {
    expect(await runTypesCommand(['--config', EXAMPLE, '--out', join(dir, 'events.ts')])).toBe(0);
    expect(await runTypesCommand([`--config=${join(ROOT, 'test/fixtures/namespaces/channels.json')}`, `--out=${join(dir, 'shapes.ts')}`])).toBe(0);
  });

  it('writes one type per event and the Events map with template literal channel types', () => {
    const text = readFileSync(join(dir, 'events.ts'), 'utf8');
    expect(text).toContain('export interface PricesTick {');
    expect(text).toContain('export interface ChatMessage {');
    expect(text).toContain('[channel in `prices.${string}`]: { "tick": PricesTick; "halt": PricesHalt; }');
    expect(text).toContain('[channel in `user.${string}.inbox`]: Record<string, unknown>');
    expect(text).toContain('[channel in `typing.${string}`]');
    expect(text).toContain('[channel in "chat"]: { "message": ChatMessage; }');
  });

  const consumers = {
    correct: consumer(`
  const subscription = client.subscribe(['prices.eurusd', 'chat']);
  for await (const item of subscription) {
    if (item.kind !== 'event') continue;
    if (item.channel === 'prices.eurusd' && item.event === 'tick') { const px: number = item.data.px; void px; }
    if (item.channel === 'prices.eurusd' && item.event === 'halt') { const reason: string = item.data.reason; void reason; }
    if (item.channel === 'chat') { const text: string = item.data.text; void text; }
  }
  await client.publish('prices.gbpusd', { px: 1.27, bid: 1.26 }, { event: 'tick' });
  await client.publish('chat', { user: 'a', text: 'hi', ts: new Date().toISOString() }, { event: 'message' });
  await client.publish('typing.room.a', { anything: true });`),
    wrongRead: consumer(`
  for await (const item of client.subscribe('prices.eurusd')) {
    if (item.kind === 'event' && item.event === 'tick') { const px: string = item.data.px; void px; }
  }`),
    wrongPublish: consumer(`  await client.publish('prices.eurusd', { px: '1.27' }, { event: 'tick' });`),
    // Schemas from several files that refer to each other in a cycle give recursive types.
    recursive: `import type { ShapesShape } from './shapes';
export const shape: ShapesShape = { name: 'a', points: [{ x: 1, y: 2, next: { x: 3, y: 4, next: null } }] };
`,
  };
  let errors: Record<string, string[]>;
  beforeAll(() => {
    errors = typeErrorsOf(consumers);
  });

  it('types a correct consumer: data by channel and event, publish payloads', () => {
    expect(errors).toEqual({ correct: [], recursive: [], wrongRead: expect.any(Array) as unknown, wrongPublish: expect.any(Array) as unknown });
  });

  it('refuses a consumer that reads a property with the wrong type', () => {
    expect(errors.wrongRead).toEqual(["8: Type 'number' is not assignable to type 'string'."]);
  });

  it('refuses a consumer that publishes data of the wrong shape', () => {
    expect(errors.wrongPublish).toEqual([expect.stringMatching(/^6: Type 'string' is not assignable to type 'number'/)]);
  });

  it('writes to stdout without --out, from CHANNELS_CONFIG without --config', async () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const previous = process.env.CHANNELS_CONFIG;
    process.env.CHANNELS_CONFIG = EXAMPLE;
    try {
      expect(await runTypesCommand([])).toBe(0);
      expect(String(write.mock.calls[0]?.[0])).toContain('export type Events =');
    } finally {
      write.mockRestore();
      if (previous === undefined) delete process.env.CHANNELS_CONFIG;
      else process.env.CHANNELS_CONFIG = previous;
    }
  });

  it.each<[args: string[], code: number, message: RegExp]>([
    [['--bogus'], 2, /^ssehub types: unknown argument "--bogus"\nusage: /],
    [['--out'], 2, /^ssehub types: --out needs a file\n/],
    [['--config', join(ROOT, 'test/fixtures/namespaces/missing.yaml')], 1, /^ssehub types: CHANNELS_CONFIG=.*missing\.yaml is invalid: the file cannot be read \(ENOENT\)\n$/],
  ])('answers %j with exit code %i and one message on stderr', async (args, code, message) => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await runTypesCommand(args)).toBe(code);
      expect(write.mock.calls.map((call) => String(call[0])).join('')).toMatch(message);
    } finally {
      write.mockRestore();
    }
  });
});

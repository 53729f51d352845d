import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { SseHubClient, type EventItem, type GapItem, type SubscriptionItem } from '../../client/src/index.js';

interface Orders {
  'orders.eu': { created: { sku: string }; cancelled: { reason: string } };
  'user.42': { message: string };
}

// The checks are the compiler's (the root typecheck covers this file); the test only runs them.
describe('typed payloads', () => {
  it('types data by channel and event name, without code generation', () => {
    const hub = new SseHubClient<Orders>({ baseUrl: 'http://127.0.0.1:1' });
    const sub = hub.subscribe(['orders.eu', 'user.42']);
    sub.close();
    const describe = (item: SubscriptionItem<Orders, 'orders.eu' | 'user.42'>): string => {
      if (item.kind !== 'event') return item.kind;
      if (item.channel === 'user.42') return item.data.toUpperCase();
      if (item.event === 'created') return item.data.sku;
      // @ts-expect-error a cancelled order has no sku
      return String(item.data.sku);
    };
    const created: EventItem<'orders.eu', 'created', { sku: string }> = { kind: 'event', channel: 'orders.eu', id: '1', event: 'created', data: { sku: 'A1' } };
    const gap: GapItem<'user.42'> = { kind: 'gap', channel: 'user.42', lastEventId: '1', firstAvailableId: null };
    expect([describe(created), describe(gap)]).toEqual(['A1', 'gap']);

    // @ts-expect-error not a channel of the map
    expect(() => hub.subscribe('other')).not.toThrow();
    const publishing = (): unknown => [
      hub.publish('orders.eu', { sku: 'B2' }, { event: 'created' }),
      // @ts-expect-error the payload of created is { sku: string }
      hub.publish('orders.eu', { sku: 2 }, { event: 'created' }),
    ];
    expect(typeof publishing).toBe('function');
  });
});

const FIXTURE = resolve(__dirname, 'fixtures', 'typed-events.ts');
// A whole program (the client, node's types) is checked twice: slow on a busy machine.
const COMPILE_TIMEOUT_MS = 120_000;
const MARKER = /^\s*\/\/ @ts-expect-error\b.*$/;

let previous: ts.Program | undefined;

/**
 * The fixture's diagnostics as `line: message`, compiled from `text` with the repository's
 * settings (reusing the last program's other files, which takes most of the time).
 */
function diagnosticsOf(text: string): string[] {
  const config = ts.readConfigFile(join(__dirname, '..', '..', 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, join(__dirname, '..', '..'));
  const host = ts.createCompilerHost({ ...options, noEmit: true });
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    resolve(name) === FIXTURE ? ts.createSourceFile(name, text, language) : read(name, language, ...rest);
  const program = ts.createProgram([FIXTURE], { ...options, noEmit: true }, host, previous);
  previous = program;
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const line = diagnostic.file === undefined ? 0 : diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1;
    return `${line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
  });
}

describe('typed events (the Events map that ssehub types writes)', () => {
  const source = readFileSync(FIXTURE, 'utf8');
  const lines = source.split('\n');
  const marked = lines.flatMap((line, index) => (MARKER.test(line) ? [index + 2] : []));

  it('types item.data by channel (template literal patterns included) and event name', () => {
    expect(marked.length).toBeGreaterThanOrEqual(7);
    expect(diagnosticsOf(source)).toEqual([]);
  }, COMPILE_TIMEOUT_MS);

  it('refuses a wrong property, payload or channel: every line after a marker fails to compile without it', () => {
    const unmarked = lines.map((line) => (MARKER.test(line) ? '' : line)).join('\n');
    const failing = new Set(diagnosticsOf(unmarked).map((diagnostic) => Number(diagnostic.split(':')[0])));
    expect([...failing].sort((a, b) => a - b)).toEqual(marked);
  }, COMPILE_TIMEOUT_MS);
});

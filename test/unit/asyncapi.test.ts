import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { PatternList } from '../../src/access/patterns';
import { buildAsyncApiDocument } from '../../src/asyncapi/document';
import { loadChannelsConfig, Namespaces, type NamespaceDefaults } from '../../src/namespaces';
import packageJson from '../../package.json';

const defaults: NamespaceDefaults = {
  historySize: 1000,
  historyTtlS: 604_800,
  maxEventBytes: 65_536,
  publicChannels: PatternList.compile(['**']),
  presenceChannels: PatternList.EMPTY,
};
const parser = new Parser();

// DiagnosticSeverity.Error of @stoplight/types, which the parser re-exports from its own copy.
function isError(severity: number): boolean {
  return severity === 0;
}

/** The parser's diagnostics of error severity, as readable lines. */
async function errorsOf(document: unknown): Promise<string[]> {
  const { diagnostics } = await parser.parse(JSON.stringify(document));
  return diagnostics.filter((diagnostic) => isError(diagnostic.severity)).map((diagnostic) => `${diagnostic.path.join('.')}: ${diagnostic.message}`);
}

describe('the AsyncAPI document', () => {
  it('parses without errors for the example namespaces, with one channel per namespace', async () => {
    const namespaces = loadChannelsConfig(join(__dirname, '../../deploy/channels.example.yaml'), defaults);
    const document = buildAsyncApiDocument(namespaces, { version: packageJson.version });
    expect(await errorsOf(document)).toEqual([]);
    expect(document.info).toMatchObject({ title: 'ssehub', version: packageJson.version });
    const channels = document.channels as Record<string, { address: string | null; parameters?: object; messages: Record<string, { payload?: unknown }> }>;
    expect(Object.values(channels).map((channel) => channel.address)).toEqual(['chat', 'prices.{segment2}', 'typing.{rest}', 'user.{segment2}.inbox', 'room.{rest}', '{channel}', null]);
    expect(channels.user_any_inbox?.parameters).toEqual({ segment2: expect.any(Object) as unknown });
    expect(channels.prices_any?.messages.tick?.payload).toEqual({ $ref: '#/components/schemas/prices_any.tick' });
    const parsed = (await parser.parse(JSON.stringify(document))).document;
    expect(parsed?.channels().get('prices_any')?.messages().get('tick')?.payload()?.required()).toEqual(['px']);
  });

  it('resolves every payload, including schemas bundled from other files, in the parsed model', async () => {
    const namespaces = loadChannelsConfig(join(__dirname, '../fixtures/namespaces/channels.json'), defaults);
    const { document, diagnostics } = await parser.parse(JSON.stringify(buildAsyncApiDocument(namespaces, { version: '1.2.3' })));
    expect(diagnostics.filter((diagnostic) => isError(diagnostic.severity))).toEqual([]);
    const shape = document?.channels().get('shapes_any')?.messages().get('shape')?.payload();
    expect(shape?.required()).toEqual(['name', 'points']);
    expect(shape?.properties()?.points?.items()).toBeDefined();
  });

  it('has receive operations for the SSE routes and send operations for publishing', async () => {
    const namespaces = loadChannelsConfig(join(__dirname, '../../deploy/channels.example.yaml'), defaults);
    const { document } = await parser.parse(JSON.stringify(buildAsyncApiDocument(namespaces, { version: '1.0.0' })));
    const operations = document?.operations().all() ?? [];
    expect(operations.filter((operation) => operation.action() === 'send').map((operation) => operation.id())).toContain('publish_prices_any');
    expect(operations.filter((operation) => operation.action() === 'receive').map((operation) => operation.id())).toEqual(expect.arrayContaining(['receive_prices_any', 'receive_streams']));
  });

  it('describes a {channel} of any JSON without a config', async () => {
    const document = buildAsyncApiDocument(Namespaces.none(defaults), { version: '1.0.0' });
    expect(await errorsOf(document)).toEqual([]);
    const channels = document.channels as Record<string, { address: string | null }>;
    expect(Object.values(channels).map((channel) => channel.address)).toEqual(['{channel}', null]);
  });
});

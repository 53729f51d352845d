import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import { Access, type ReadRequest } from '../../src/access/access';
import { koaReadRequest } from '../../src/access/read-request';
import { PatternList } from '../../src/access/patterns';
import { MemoryTicketStore } from '../../src/broker/memory/tickets';
import { readConfig } from '../../src/config';
import { KEY_KINDS, makeKey, signToken, type KeyKind } from '../helpers/access-tokens';

/**
 * The cost of authorizing one stream open (it runs once per connect, never per event). Prints
 * operations per second for each key type and carrier; the floor is far below the measured
 * figures, only there to catch an accidental slow path (a per-call key import, say).
 */
const ITERATIONS = 2000;
const FLOOR_PER_SECOND = 200;

function contextWith(headers: Record<string, string>, url = '/channels/orders.eu/stream'): ReadRequest {
  const app = new Koa({ keys: ['k'] });
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = url;
  req.headers = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return koaReadRequest(app.createContext(req, new ServerResponse(req)));
}

async function perSecond(run: () => Promise<unknown>): Promise<number> {
  for (let index = 0; index < 200; index++) await run();
  const started = performance.now();
  for (let index = 0; index < ITERATIONS; index++) await run();
  return Math.round((ITERATIONS * 1000) / (performance.now() - started));
}

function accessFor(kind: KeyKind | undefined, env: Record<string, string>): Access {
  const config = readConfig({ ...env, PUBLIC_CHANNELS: kind === undefined ? '**' : 'chat' });
  return new Access({ ...config, broker: new MemoryTicketStore() });
}

describe('the cost of authorizing a stream open', () => {
  const figures: Record<string, number> = {};

  afterAll(() => {
    process.stdout.write(`authorizeRead, operations per second (${ITERATIONS} runs each):\n${JSON.stringify(figures, null, 2)}\n`);
  });

  it('costs nothing measurable without a key', async () => {
    const access = accessFor(undefined, {});
    const ctx = contextWith({});
    figures['no key'] = await perSecond(() => access.authorizeRead(ctx, ['orders.eu']));
    expect(figures['no key']).toBeGreaterThan(FLOOR_PER_SECOND);
  });

  it.each(KEY_KINDS)('verifies a %s bearer token fast enough for stream opens', async (kind) => {
    const key = makeKey(kind);
    const access = accessFor(kind, key.env);
    const token = await signToken(key, { subscribe: Array.from({ length: 16 }, (_, index) => `room${index}.*`).concat(['orders.*']) }, { sub: 'u1' });
    const ctx = contextWith({ Authorization: `Bearer ${token}` });
    await expect(access.authorizeRead(ctx, ['orders.eu'])).resolves.toMatchObject({ sub: 'u1' });
    figures[`${kind} header`] = await perSecond(() => access.authorizeRead(ctx, ['orders.eu']));
    expect(figures[`${kind} header`]).toBeGreaterThan(FLOOR_PER_SECOND);
  });

  it('redeems a ticket (lookup plus verification) fast enough for reconnects', async () => {
    const key = makeKey('HS256');
    const access = accessFor('HS256', key.env);
    const token = await signToken(key, { subscribe: ['orders.*'] });
    const { ticket } = await access.issueTicket(contextWith({ Authorization: `Bearer ${token}` }, '/tickets'));
    const ctx = contextWith({}, `/channels/orders.eu/stream?ticket=${ticket}`);
    figures['HS256 ticket (memory broker)'] = await perSecond(() => access.authorizeRead(ctx, ['orders.eu']));
    expect(figures['HS256 ticket (memory broker)']).toBeGreaterThan(FLOOR_PER_SECOND);
  });

  it('matches a compiled 64-pattern grant in well under a microsecond per pattern', () => {
    const list = PatternList.compile(Array.from({ length: 64 }, (_, index) => `room${index}.{sub}.**`));
    const started = performance.now();
    const runs = 20_000;
    for (let index = 0; index < runs; index++) list.matches('room63.u1.inbox', 'u1');
    figures['64-pattern grant, last pattern matches'] = Math.round((runs * 1000) / (performance.now() - started));
    expect(figures['64-pattern grant, last pattern matches']).toBeGreaterThan(FLOOR_PER_SECOND);
  });
});

import { PassThrough } from 'node:stream';
import pino from 'pino';
import { MemoryEventBroker } from '../../src/broker/memory/events';
import { Hub } from '../../src/hub/hub';
import { Metrics } from '../../src/metrics';
import { eventually } from '../helpers/eventually';

interface Reader {
  readonly stream: PassThrough;
  readonly chunks: Buffer[];
  ids(): number[];
}

function reader(): Reader {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ids = (): number[] => [...Buffer.concat(chunks).toString().matchAll(/^id: (\d+)\nevent:/gm)].map((match) => Number(match[1]));
  return { stream, chunks, ids };
}

describe('Hub: streams resuming from the same point share the history they replay', () => {
  let broker: MemoryEventBroker;
  let hub: Hub;
  let ids: number[];

  beforeEach(async () => {
    broker = new MemoryEventBroker(100);
    hub = new Hub({ broker, metrics: new Metrics(), logger: pino({ level: 'silent' }), historySize: 100, heartbeatMs: 60_000, retryMs: 2000, maxClients: 100, clientBufferBytes: 1 << 20, maxFlushWaitMs: 0 });
    ids = [];
    for (let n = 1; n <= 5; n++) ids.push((await broker.publish({ channel: 'storm', event: 'message', dataJson: String(n) })).id);
  });
  afterEach(async () => {
    hub.close();
    await broker.close();
  });

  const resume = async (client: Reader, after: number): Promise<void> => {
    await hub.connect({ channels: [{ name: 'storm', resumePoint: after }], framing: 'single', stream: client.stream, abortConnection: () => undefined });
  };

  it('reads a page once for every stream that resumes from that point before the next event, and writes the same bytes to each', async () => {
    const history = jest.spyOn(broker, 'history');
    const clients = [reader(), reader(), reader()];
    await Promise.all(clients.map((client) => resume(client, ids[1] as number)));
    await eventually(() => clients.every((client) => client.ids().length === 3), 'every stream to replay');
    for (const client of clients) expect(client.ids()).toEqual(ids.slice(2));
    expect(history.mock.calls.filter(([, query]) => query.after === ids[1])).toHaveLength(1);
    const replayed = clients.map((client) => client.chunks.find((chunk) => chunk.toString().includes('event: message')));
    expect(replayed[1]).toBe(replayed[0]);
    expect(replayed[2]).toBe(replayed[0]);
  });

  it('reads again once an event has come: a stream resuming after it gets it exactly once, like the ones before', async () => {
    const history = jest.spyOn(broker, 'history');
    const early = reader();
    await resume(early, ids[1] as number);
    await eventually(() => early.ids().length === 3, 'the first stream to replay');
    const sixth = (await broker.publish({ channel: 'storm', event: 'message', dataJson: '6' })).id;
    await eventually(() => early.ids().length === 4, 'the first stream to get the new event live');
    const late = reader();
    await resume(late, ids[1] as number);
    await eventually(() => late.ids().length === 4, 'the second stream to replay');
    expect(early.ids()).toEqual([...ids.slice(2), sixth]);
    expect(late.ids()).toEqual([...ids.slice(2), sixth]);
    expect(history.mock.calls.filter(([, query]) => query.after === ids[1])).toHaveLength(2);
  });

  it('keeps no page once no stream is replaying: a later resume reads again', async () => {
    const history = jest.spyOn(broker, 'history');
    const first = reader();
    await resume(first, ids[2] as number);
    await eventually(() => first.ids().length === 2, 'the first stream to replay');
    const second = reader();
    await resume(second, ids[2] as number);
    await eventually(() => second.ids().length === 2, 'the second stream to replay');
    expect(history.mock.calls.filter(([, query]) => query.after === ids[2])).toHaveLength(2);
  });
});

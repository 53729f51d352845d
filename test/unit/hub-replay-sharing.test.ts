import { PassThrough } from 'node:stream';
import pino from 'pino';
import { MemoryEventBroker } from '../../src/broker/memory/events';
import { HubChannel } from '../../src/hub/channel';
import type { HubClient } from '../../src/hub/client';
import { Hub } from '../../src/hub/hub';
import { ReplayPage } from '../../src/hub/replay-page';
import { StreamChannel } from '../../src/hub/stream-channel';
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

describe('HubChannel.replayPage: what a channel keeps of the pages it shares', () => {
  const broker = new MemoryEventBroker(100);
  const channel = new HubChannel('storm', { broker, metrics: new Metrics(), logger: pino({ level: 'silent' }), historySize: 100, onBatch: () => undefined });
  // replayPage only asks whether a stream is replaying: no client is needed behind it.
  const streamOf = (): StreamChannel => new StreamChannel(undefined as unknown as HubClient, 'storm', 0, 'single');
  let reads = 0;
  const read = (): Promise<ReplayPage> => {
    reads++;
    return Promise.resolve(new ReplayPage({ events: [], firstId: null, lastId: null, more: false }, []));
  };
  afterAll(() => broker.close());
  beforeEach(() => {
    reads = 0;
  });

  it('shares a page between replaying streams for at most a second after its read began', async () => {
    const [a, b, c] = [streamOf(), streamOf(), streamOf()];
    for (const stream of [a, b, c]) channel.startReplay(stream);
    const first = await channel.replayPage(a, 7, 10_000, read);
    expect(await channel.replayPage(b, 7, 11_000, read)).toBe(first);
    expect(await channel.replayPage(c, 7, 11_001, read)).not.toBe(first);
    expect(reads).toBe(2);
    for (const stream of [a, b, c]) channel.remove(stream);
  });

  it('keeps nothing for a stream that is not replaying, and nothing once no stream is', async () => {
    const gone = streamOf();
    await channel.replayPage(gone, 7, 0, read);
    await channel.replayPage(gone, 7, 0, read);
    expect(reads).toBe(2);
    const replaying = streamOf();
    channel.startReplay(replaying);
    await channel.replayPage(replaying, 7, 0, read);
    channel.remove(replaying);
    channel.startReplay(replaying);
    await channel.replayPage(replaying, 7, 0, read);
    expect(reads).toBe(4);
    channel.remove(replaying);
  });

  it('shares at most eight pages at a time', async () => {
    const stream = streamOf();
    channel.startReplay(stream);
    for (let after = 1; after <= 9; after++) await channel.replayPage(stream, after, 0, read);
    expect(reads).toBe(9);
    // The ninth cleared the first eight: asking for the first again reads it again.
    await channel.replayPage(stream, 1, 0, read);
    await channel.replayPage(stream, 9, 0, read);
    expect(reads).toBe(10);
    channel.remove(stream);
  });
});

describe('Hub: a shared replay read that fails', () => {
  it('ends the stream that made the read; the streams that joined it read again alone and replay everything', async () => {
    const broker = new MemoryEventBroker(100);
    const hub = new Hub({ broker, metrics: new Metrics(), logger: pino({ level: 'silent' }), historySize: 100, heartbeatMs: 60_000, retryMs: 2000, maxClients: 100, clientBufferBytes: 1 << 20, maxFlushWaitMs: 0 });
    const ids: number[] = [];
    for (let n = 1; n <= 3; n++) ids.push((await broker.publish({ channel: 'storm', event: 'message', dataJson: String(n) })).id);
    const readHistory = broker.history.bind(broker);
    let failed = false;
    // The first replay read fails (the channel's own start-up read of its newest id does not).
    const history = jest.spyOn(broker, 'history').mockImplementation((channel, query) => {
      if (query.after === undefined || failed) return readHistory(channel, query);
      failed = true;
      // Slow to fail, as a timeout is: the other streams join it meanwhile.
      return new Promise((_resolve, reject) => setTimeout(() => reject(new Error('Redis timed out')), 50));
    });
    const clients = [reader(), reader(), reader()];
    const ended = clients.map((client) => new Promise<boolean>((resolve) => client.stream.once('close', () => resolve(true))));
    await Promise.all(
      clients.map((client) => hub.connect({ channels: [{ name: 'storm', resumePoint: ids[0] as number }], framing: 'single', stream: client.stream, abortConnection: () => undefined })),
    );
    await ended[0];
    await eventually(() => (clients[1] as Reader).ids().length === 2 && (clients[2] as Reader).ids().length === 2, 'the other two to replay');
    expect((clients[1] as Reader).ids()).toEqual(ids.slice(1));
    expect((clients[2] as Reader).ids()).toEqual(ids.slice(1));
    expect((clients[0] as Reader).ids()).toEqual([]);
    // The failed read, then one read of its own for each stream that had joined it.
    expect(history.mock.calls.filter(([, query]) => query.after === ids[0])).toHaveLength(3);
    hub.close();
    await broker.close();
  });
});

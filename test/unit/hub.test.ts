import { PassThrough, Writable } from 'node:stream';
import pino from 'pino';
import { MemoryEventBroker } from '../../src/broker/memory/events';
import { Hub } from '../../src/hub/hub';
import { Metrics } from '../../src/metrics';

interface TestStream {
  stream: PassThrough;
  chunks: Buffer[];
  text(): string;
  aborted: boolean;
}

function testStream(read = true): TestStream {
  const stream = new PassThrough();
  const result: TestStream = {
    stream,
    chunks: [],
    text: () => Buffer.concat(result.chunks).toString(),
    aborted: false,
  };
  if (read) {
    // Capture the very Buffer objects the hub wrote (a PassThrough passes them through as is).
    stream.on('data', (chunk: Buffer) => result.chunks.push(chunk));
  }
  return result;
}

function setup(overrides: Partial<ConstructorParameters<typeof Hub>[0]> = {}): { hub: Hub; broker: MemoryEventBroker; metrics: Metrics } {
  const broker = new MemoryEventBroker(100);
  const metrics = new Metrics();
  const hub = new Hub({
    broker,
    metrics,
    logger: pino({ level: 'silent' }),
    historySize: 100,
    heartbeatMs: 60_000,
    retryMs: 2000,
    maxClients: 100,
    clientBufferBytes: 64 * 1024,
    // Every flush on the next turn, whatever the last one cost (which a loaded machine inflates).
    maxFlushWaitMs: 0,
    ...overrides,
  });
  return { hub, broker, metrics };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function publish(broker: MemoryEventBroker, channel: string, data: unknown): Promise<number> {
  return (await broker.publish({ channel, event: 'message', dataJson: JSON.stringify(data) })).id;
}

describe('Hub', () => {
  afterEach(() => jest.useRealTimers());

  it('encodes each event once and writes the same buffer to every client', async () => {
    const { hub, broker } = setup();
    const a = testStream();
    const b = testStream();
    await hub.connect({ channels: [{ name: 'c', resumePoint: null }], framing: 'single', stream: a.stream, abortConnection: () => undefined });
    await hub.connect({ channels: [{ name: 'c', resumePoint: null }], framing: 'single', stream: b.stream, abortConnection: () => undefined });
    const id = await publish(broker, 'c', { x: 1 });
    await nextTurn();
    await nextTurn();
    const lastA = a.chunks[a.chunks.length - 1];
    const lastB = b.chunks[b.chunks.length - 1];
    expect(lastA?.toString()).toBe(`id: ${id}\nevent: message\ndata: {"x":1}\n\n`);
    expect(lastA).toBe(lastB);
    hub.close();
  });

  it('writes the events of one event-loop turn to a client as one buffer', async () => {
    const { hub, broker } = setup();
    const client = testStream();
    await hub.connect({ channels: [{ name: 'c', resumePoint: null }], framing: 'single', stream: client.stream, abortConnection: () => undefined });
    await nextTurn();
    const before = client.chunks.length;
    const ids = await Promise.all([1, 2, 3].map((n) => publish(broker, 'c', n)));
    await nextTurn();
    await nextTurn();
    expect(client.chunks.length - before).toBe(1);
    expect(client.chunks[client.chunks.length - 1]?.toString()).toBe(
      ids.map((id, n) => `id: ${id}\nevent: message\ndata: ${n + 1}\n\n`).join(''),
    );
    hub.close();
  });

  it('starts a stream with the retry line and its position, then replays history after the resume point before live events', async () => {
    const { hub, broker } = setup();
    const ids = [await publish(broker, 'c', 'a'), await publish(broker, 'c', 'b'), await publish(broker, 'c', 'c')];
    const client = testStream();
    await hub.connect({ channels: [{ name: 'c', resumePoint: ids[0]! }], framing: 'single', stream: client.stream, abortConnection: () => undefined });
    const live = await publish(broker, 'c', 'd');
    await nextTurn();
    await nextTurn();
    const text = client.text();
    expect(text.startsWith(`retry: 2000\n\nid: ${ids[0]}\n\n`)).toBe(true);
    const seen = [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
    expect(seen).toEqual([ids[0], ids[1], ids[2], live]);
    hub.close();
  });

  /** A hub (fake clock, flush waits up to 1 s) with one stream whose every write takes 20 ms of the clock. */
  async function slowStreamHub(): Promise<{ hub: Hub; broker: MemoryEventBroker; writes: string[] }> {
    // Fake time: the hub's clock (Date, performance, timers); turns and ticks stay real.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const { hub, broker } = setup({ maxFlushWaitMs: 1000 });
    const writes: string[] = [];
    // As a flush to many streams takes.
    const slow = new Writable({
      write(chunk: Buffer, _encoding, done) {
        jest.advanceTimersByTime(20);
        writes.push(chunk.toString());
        done();
      },
    });
    const stream = new PassThrough();
    stream.pipe(slow);
    await hub.connect({ channels: [{ name: 'c', resumePoint: null }], framing: 'single', stream, abortConnection: () => undefined });
    await nextTurn();
    return { hub, broker, writes };
  }

  it('when events come faster than flushes, waits about as long as the last flush took, and the events of the wait share one write', async () => {
    const { hub, broker, writes } = await slowStreamHub();
    // Two events in one turn: one flush (20 ms) carries both, so events outpace flushes.
    await Promise.all([publish(broker, 'c', 1), publish(broker, 'c', 2)]);
    await nextTurn();
    await nextTurn();
    const before = writes.length;
    // A turn apart: without the wait each would be flushed (and written) on its own.
    for (const n of [3, 4, 5]) {
      await publish(broker, 'c', n);
      await nextTurn();
    }
    expect(writes.length).toBe(before);
    jest.advanceTimersByTime(20);
    await nextTurn();
    const after = writes.slice(before).join('');
    expect([...after.matchAll(/^data: (\d)$/gm)].map((match) => match[1])).toEqual(['3', '4', '5']);
    expect(writes.length - before).toBe(1);
    hub.close();
  });

  it('after a slow flush of a lone event, writes the next event on the next turn without waiting', async () => {
    const { hub, broker, writes } = await slowStreamHub();
    await publish(broker, 'c', 1);
    await nextTurn();
    await nextTurn();
    const before = writes.length;
    await publish(broker, 'c', 2);
    await nextTurn();
    await nextTurn();
    // No clock advance: a wait (a timer) would still hold it.
    expect(writes.slice(before).join('')).toMatch(/^data: 2$/m);
    hub.close();
  });

  it('drops a client whose unsent data passes the buffer limit, without delaying the others', async () => {
    const { hub, broker, metrics } = setup({ clientBufferBytes: 2048 });
    const reader = testStream();
    const stalled = testStream(false);
    await hub.connect({ channels: [{ name: 'c', resumePoint: null }], framing: 'single', stream: reader.stream, abortConnection: () => undefined });
    await hub.connect({
      channels: [{ name: 'c', resumePoint: null }],
      framing: 'single',
      stream: stalled.stream,
      abortConnection: () => {
        stalled.aborted = true;
      },
    });
    for (let n = 0; n < 100; n++) {
      await publish(broker, 'c', 'y'.repeat(500));
      await nextTurn();
    }
    await nextTurn();
    expect(stalled.aborted).toBe(true);
    expect(stalled.stream.destroyed).toBe(true);
    expect([...reader.text().matchAll(/^data: /gm)]).toHaveLength(100);
    expect((await metrics.clientsDroppedSlow.get()).values[0]?.value).toBe(1);
    expect(hub.clientCount).toBe(1);
    hub.close();
  });

  it('forgets a client and its channel once its stream closes', async () => {
    const { hub } = setup();
    const client = testStream();
    await hub.connect({ channels: [{ name: 'gone', resumePoint: null }], framing: 'single', stream: client.stream, abortConnection: () => undefined });
    expect(hub.clientCount).toBe(1);
    expect(hub.channelCount).toBe(1);
    client.stream.destroy();
    await nextTurn();
    expect(hub.clientCount).toBe(0);
    expect(hub.channelCount).toBe(0);
    hub.close();
  });

  it('ends every stream on close', async () => {
    const { hub } = setup();
    const client = testStream();
    await hub.connect({ channels: [{ name: 'c', resumePoint: null }], framing: 'single', stream: client.stream, abortConnection: () => undefined });
    const ended = new Promise((resolve) => client.stream.once('end', resolve));
    hub.close();
    await ended;
  });

  it('releases a resuming client that its own held-back live events push over the buffer limit', async () => {
    const { hub, broker, metrics } = setup({ clientBufferBytes: 1024 });
    let releaseHistory: () => void = () => undefined;
    const historyGate = new Promise<void>((resolve) => {
      releaseHistory = resolve;
    });
    // Replay's history read is slow, so live events queue for the client meanwhile.
    const history = broker.history.bind(broker);
    broker.history = async (channel, query) => {
      const page = await history(channel, query);
      if (query.after !== undefined) await historyGate;
      return page;
    };
    const big = 'y'.repeat(400);
    // The replay alone (3 × 400 bytes) fills the client past its 1024-byte limit; the held-back
    // live events are written after it, in goLive, which is where the client is dropped.
    const first = await publish(broker, 'busy', big);
    await publish(broker, 'busy', big);
    await publish(broker, 'busy', big);
    const stalled = testStream(false);
    await hub.connect({ channels: [{ name: 'busy', resumePoint: first - 1 }], framing: 'single', stream: stalled.stream, abortConnection: () => undefined });
    await nextTurn(); // the replay has read its page; these two arrive live and are held back
    await publish(broker, 'busy', big);
    await publish(broker, 'busy', big);
    releaseHistory();
    await nextTurn();
    await nextTurn();
    expect(stalled.stream.destroyed).toBe(true);
    expect(hub.clientCount).toBe(0);
    expect(hub.channelCount).toBe(0);
    expect((await metrics.clientsConnected.get()).values[0]?.value).toBe(0);
    hub.close();
  });

  it('shares the encoded bytes of an event between multi-channel streams whose cursors agree, one cursor line each otherwise', async () => {
    const { hub, broker } = setup();
    const [one, two, other] = [testStream(), testStream(), testStream()];
    const connect = (stream: PassThrough, names: string[]): Promise<unknown> =>
      hub.connect({ channels: names.map((name) => ({ name, resumePoint: null })), framing: 'multi', stream, abortConnection: () => undefined });
    await connect(one.stream, ['m', 'n']);
    await connect(two.stream, ['n', 'm']);
    await connect(other.stream, ['m', 'o']);
    const id = await publish(broker, 'm', 1);
    await nextTurn();
    await nextTurn();
    const last = (stream: TestStream): Buffer | undefined => stream.chunks[stream.chunks.length - 1];
    expect(last(one)).toBe(last(two));
    expect(last(one)?.toString()).toBe(`id: m=${id},n=0\nevent: message\ndata: {"channel":"m","id":"${id}","data":1}\n\n`);
    expect(last(other)?.toString()).toBe(`id: m=${id},o=0\nevent: message\ndata: {"channel":"m","id":"${id}","data":1}\n\n`);
    hub.close();
  });

  it('sends hub.reauth at half of a short credential life and ends the stream at expiry', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const { hub } = setup();
    const client = testStream();
    const ended = new Promise((resolve) => client.stream.once('end', resolve));
    const closed = new Promise((resolve) => client.stream.once('close', resolve));
    const expiresAtMs = Date.now() + 300;
    await hub.connect({ channels: [{ name: 'private', resumePoint: null }], framing: 'single', stream: client.stream, abortConnection: () => undefined, expiresAtMs });
    const reauth = `event: hub.reauth\ndata: {"expiresAt":"${new Date(expiresAtMs).toISOString()}"}\n\n`;
    jest.advanceTimersByTime(149);
    await nextTurn();
    expect(client.text()).not.toContain('hub.reauth');
    jest.advanceTimersByTime(1);
    await nextTurn();
    expect(client.text()).toContain(reauth);
    expect(client.text().indexOf('hub.reauth')).toBeGreaterThan(client.text().indexOf('id: 0'));
    jest.advanceTimersByTime(149);
    await nextTurn();
    expect(client.stream.writableEnded).toBe(false);
    jest.advanceTimersByTime(1);
    await ended;
    expect(Date.now()).toBe(expiresAtMs);
    await closed;
    expect(hub.clientCount).toBe(0);
    expect(hub.deadlineCount).toBe(0);
    hub.close();
  });

  it('forgets the credential deadlines of a stream that closes before its expiry', async () => {
    const { hub } = setup();
    const client = testStream();
    await hub.connect({ channels: [{ name: 'private', resumePoint: null }], framing: 'single', stream: client.stream, abortConnection: () => undefined, expiresAtMs: Date.now() + 30 * 24 * 3600_000 });
    expect(hub.deadlineCount).toBe(2);
    client.stream.destroy();
    await nextTurn();
    expect(hub.clientCount).toBe(0);
    expect(hub.deadlineCount).toBe(0);
    hub.close();
  });

  it.each([1e303, Infinity])('serves a stream whose credential expires beyond any date (%d ms) and schedules nothing for it', async (expiresAtMs) => {
    const { hub } = setup();
    const client = testStream();
    await hub.connect({ channels: [{ name: 'private', resumePoint: null }], framing: 'single', stream: client.stream, abortConnection: () => undefined, expiresAtMs });
    expect(hub.clientCount).toBe(1);
    expect(hub.deadlineCount).toBe(0);
    client.stream.destroy();
    await nextTurn();
    expect(hub.clientCount).toBe(0);
    expect(hub.channelCount).toBe(0);
    hub.close();
  });

  it('undoes a registration that fails half-way: no client, channel or deadline kept, the stream destroyed', async () => {
    const { hub, metrics } = setup();
    const client = testStream();
    client.stream.write = () => {
      throw new Error('the stream refuses writes');
    };
    const connecting = hub.connect({ channels: [{ name: 'c', resumePoint: null }], framing: 'single', stream: client.stream, abortConnection: () => undefined, expiresAtMs: Date.now() + 60_000 });
    await expect(connecting).rejects.toThrow('the stream refuses writes');
    expect(client.stream.destroyed).toBe(true);
    expect(hub.clientCount).toBe(0);
    expect(hub.channelCount).toBe(0);
    expect(hub.deadlineCount).toBe(0);
    expect((await metrics.clientsConnected.get()).values[0]?.value).toBe(0);
    hub.close();
  });

  it('broadcasts an id-less frame once to every stream following the channel', async () => {
    const { hub } = setup();
    const [single, multi, elsewhere] = [testStream(), testStream(), testStream()];
    await hub.connect({ channels: [{ name: 'room', resumePoint: null }], framing: 'single', stream: single.stream, abortConnection: () => undefined });
    await hub.connect({ channels: [{ name: 'room', resumePoint: null }, { name: 'lobby', resumePoint: null }], framing: 'multi', stream: multi.stream, abortConnection: () => undefined });
    await hub.connect({ channels: [{ name: 'lobby', resumePoint: null }], framing: 'single', stream: elsewhere.stream, abortConnection: () => undefined });
    hub.broadcast('room', Buffer.from('event: hub.join\ndata: {}\n\n'));
    await nextTurn();
    expect(single.text().match(/hub\.join/g)).toHaveLength(1);
    expect(multi.text().match(/hub\.join/g)).toHaveLength(1);
    expect(elsewhere.text()).not.toContain('hub.join');
    hub.close();
  });
});

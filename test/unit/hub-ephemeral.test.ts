import { PassThrough } from 'node:stream';
import pino from 'pino';
import { MemoryEventBroker } from '../../src/broker/memory/events';
import { Hub } from '../../src/hub/hub';
import { Metrics } from '../../src/metrics';

/** A memory broker that counts its history reads (the hub must make none for an ephemeral channel). */
class CountingBroker extends MemoryEventBroker {
  historyReads = 0;

  override history(...args: Parameters<MemoryEventBroker['history']>): ReturnType<MemoryEventBroker['history']> {
    this.historyReads++;
    return super.history(...args);
  }
}

function setup(): { hub: Hub; broker: CountingBroker } {
  const broker = new CountingBroker(100);
  const hub = new Hub({
    broker,
    metrics: new Metrics(),
    logger: pino({ level: 'silent' }),
    historySize: 100,
    heartbeatMs: 60_000,
    retryMs: 2000,
    maxClients: 100,
    clientBufferBytes: 64 * 1024,
    maxFlushWaitMs: 0,
    isEphemeral: (channel) => channel.startsWith('eph.'),
  });
  return { hub, broker };
}

function reader(): { stream: PassThrough; chunks: Buffer[]; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, chunks, text: () => Buffer.concat(chunks).toString() };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Hub: ephemeral channels', () => {
  it('reads no history for an ephemeral channel: not at connect, not for a resume point, not after an outage', async () => {
    const { hub, broker } = setup();
    const single = reader();
    const multi = reader();
    await hub.connect({ channels: [{ name: 'eph.a', resumePoint: 7 }], framing: 'single', stream: single.stream, abortConnection: () => undefined });
    await hub.connect({ channels: [{ name: 'eph.a', resumePoint: 3 }], framing: 'multi', stream: multi.stream, abortConnection: () => undefined });
    broker.emit('down');
    broker.emit('resubscribed');
    await broker.publishEphemeral('eph.a', 'typing', '{"n":1}');
    await nextTurn();
    await nextTurn();
    expect(broker.historyReads).toBe(0);
    // No priming id, no id line, no gap on the single stream; the multi cursor is empty.
    expect(single.text()).toBe('retry: 2000\n\nevent: typing\ndata: {"n":1}\n\n');
    expect(multi.text()).toBe('retry: 2000\n\nid: \n\nevent: typing\ndata: {"channel":"eph.a","id":null,"data":{"n":1}}\n\n');
    hub.close();
  });

  it('writes one buffer to every stream of an ephemeral channel, whatever their other channels', async () => {
    const { hub, broker } = setup();
    const streams = [reader(), reader(), reader()];
    await hub.connect({ channels: [{ name: 'eph.b', resumePoint: null }, { name: 'x', resumePoint: null }], framing: 'multi', stream: streams[0]!.stream, abortConnection: () => undefined });
    await hub.connect({ channels: [{ name: 'eph.b', resumePoint: null }, { name: 'y', resumePoint: null }], framing: 'multi', stream: streams[1]!.stream, abortConnection: () => undefined });
    await hub.connect({ channels: [{ name: 'eph.b', resumePoint: null }], framing: 'multi', stream: streams[2]!.stream, abortConnection: () => undefined });
    const before = streams.map((stream) => stream.chunks.length);
    await broker.publishEphemeral('eph.b', 'typing', '{}');
    await nextTurn();
    await nextTurn();
    const written = streams.map((stream, index) => stream.chunks.slice(before[index]));
    expect(written.map((chunks) => chunks.length)).toEqual([1, 1, 1]);
    expect(written[1]![0]).toBe(written[0]![0]);
    expect(written[2]![0]).toBe(written[0]![0]);
    hub.close();
  });
});

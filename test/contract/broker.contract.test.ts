import type { EventBroker } from '../../src/broker/broker';
import type { Brokers } from '../../src/broker/create-broker';
import type { StoredEvent } from '../../src/event';
import { memoryBrokers, redisBrokers } from './brokers';

interface BrokerFactory {
  readonly name: string;
  create(historySize: number, historyPageBytes?: number): Promise<Brokers>;
}

const FACTORIES: BrokerFactory[] = [
  { name: 'MemoryEventBroker', create: (historySize, historyPageBytes) => memoryBrokers({ historySize, historyPageBytes }) },
  { name: 'RedisEventBroker', create: (historySize, historyPageBytes) => redisBrokers({ historySize, historyPageBytes }) },
];

interface Delivery {
  readonly channel: string;
  readonly event: StoredEvent;
}

/** Records what the broker delivers and lets a test await a count (no sleeps). */
class Recorder {
  readonly deliveries: Delivery[] = [];
  private waiters: Array<() => void> = [];

  constructor(broker: EventBroker) {
    broker.onEvent((channel, event) => {
      this.deliveries.push({ channel, event });
      for (const waiter of [...this.waiters]) waiter();
    });
  }

  on(channel: string): StoredEvent[] {
    return this.deliveries.filter((delivery) => delivery.channel === channel).map((delivery) => delivery.event);
  }

  waitFor(channel: string, count: number, timeoutMs = 5000): Promise<void> {
    if (this.on(channel).length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out waiting for ${count} events on ${channel}; got ${this.on(channel).length}`));
      }, timeoutMs);
      const check = (): void => {
        if (this.on(channel).length < count) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }
}

function consecutiveFrom(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, index) => first + index);
}

describe.each(FACTORIES)('the Broker contract: $name', (factory) => {
  let stores: Brokers;
  let broker: EventBroker;
  let recorder: Recorder;
  const HISTORY_SIZE = 5;

  beforeEach(async () => {
    stores = await factory.create(HISTORY_SIZE);
    broker = stores.events;
    recorder = new Recorder(broker);
  });
  afterEach(async () => {
    await stores.close();
  });

  const publish = (channel: string, data: unknown, event = 'message', idempotencyKey?: string) =>
    broker.publish({ channel, event, dataJson: JSON.stringify(data), ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });

  it('is ready once created', () => {
    expect(broker.status).toBe('ready');
    expect(broker.ready).toBe(true);
    expect(broker.description).not.toBe('');
  });

  it('starts a channel at the current time in microseconds and counts up by exactly one', async () => {
    const before = Date.now() * 1000;
    const results = [];
    for (let n = 0; n < 4; n++) results.push(await publish('ids', n));
    const after = Date.now() * 1000;
    const first = results[0]!.id;
    expect(first).toBeGreaterThanOrEqual(before - 2_000_000);
    expect(first).toBeLessThanOrEqual(after + 2_000_000);
    expect(Number.isSafeInteger(first)).toBe(true);
    expect(results.map((result) => result.id)).toEqual(consecutiveFrom(first, 4));
    expect(results.map((result) => [result.channel, result.event, result.duplicate])).toEqual(
      Array.from({ length: 4 }, () => ['ids', 'message', false]),
    );
  });

  it('keeps separate counters per channel', async () => {
    const a1 = await publish('count-a', 1);
    const b1 = await publish('count-b', 1);
    const a2 = await publish('count-a', 2);
    const b2 = await publish('count-b', 2);
    expect(a2.id).toBe(a1.id + 1);
    expect(b2.id).toBe(b1.id + 1);
  });

  it('keeps only the newest historySize events, oldest first', async () => {
    const ids: number[] = [];
    for (let n = 0; n < 8; n++) ids.push((await publish('capped', { n }, 'tick')).id);
    const page = await broker.history('capped', { limit: 100 });
    expect(page.events.map((event) => event.id)).toEqual(ids.slice(3));
    expect(page.events.map((event) => JSON.parse(event.dataJson) as unknown)).toEqual([3, 4, 5, 6, 7].map((n) => ({ n })));
    expect(page.events.every((event) => event.event === 'tick')).toBe(true);
    expect(page.firstId).toBe(ids[3]);
    expect(page.lastId).toBe(ids[7]);
  });

  it('stores each event as its history item JSON', async () => {
    const { id } = await publish('raw', { text: 'a\nb' }, 'said');
    const [event] = (await broker.history('raw', { limit: 1 })).events;
    expect(event).toEqual({ id, event: 'said', dataJson: '{"text":"a\\nb"}', raw: `{"id":"${id}","event":"said","data":{"text":"a\\nb"}}` });
  });

  it('slices history after an id and by limit, reporting the retained window', async () => {
    const ids: number[] = [];
    for (let n = 0; n < 5; n++) ids.push((await publish('slices', n)).id);
    const idsOf = async (query: { after?: number; limit: number }) =>
      (await broker.history('slices', query)).events.map((event) => event.id);

    expect(await idsOf({ after: ids[1]!, limit: 2 })).toEqual([ids[2], ids[3]]);
    expect(await idsOf({ after: ids[1]!, limit: 100 })).toEqual(ids.slice(2));
    expect(await idsOf({ limit: 2 })).toEqual(ids.slice(3));
    expect(await idsOf({ limit: 1 })).toEqual([ids[4]]);
    expect(await idsOf({ after: 0, limit: 100 })).toEqual(ids);
    expect(await idsOf({ after: ids[0]! - 100, limit: 3 })).toEqual(ids.slice(0, 3));
    expect(await idsOf({ after: ids[4]!, limit: 10 })).toEqual([]);
    expect(await idsOf({ after: ids[4]! + 50, limit: 10 })).toEqual([]);

    const page = await broker.history('slices', { after: ids[4]!, limit: 10 });
    expect(page.firstId).toBe(ids[0]);
    expect(page.lastId).toBe(ids[4]);
  });

  it('answers an empty page with null bounds for a channel that has no events', async () => {
    expect(await broker.history('never-published', { limit: 10 })).toEqual({ events: [], more: false, firstId: null, lastId: null });
    expect(await broker.history('never-published', { after: 5, limit: 10 })).toEqual({ events: [], more: false, firstId: null, lastId: null });
  });

  it('answers a repeated idempotency key with the same event and data with the first result and stores nothing', async () => {
    await broker.subscribe('idem');
    const first = await publish('idem', { a: 1, b: [2] }, 'created', 'key-1');
    const repeat = await publish('idem', { a: 1, b: [2] }, 'created', 'key-1');
    const sentinel = await publish('idem', 'after');
    expect(first.duplicate).toBe(false);
    expect(repeat).toEqual({ id: first.id, channel: 'idem', event: 'created', duplicate: true });
    expect(sentinel.id).toBe(first.id + 1);
    const page = await broker.history('idem', { limit: 100 });
    expect(page.events.map((event) => event.dataJson)).toEqual(['{"a":1,"b":[2]}', '"after"']);
    await recorder.waitFor('idem', 2);
    expect(recorder.on('idem').map((event) => event.dataJson)).toEqual(['{"a":1,"b":[2]}', '"after"']);
  });

  it('refuses a repeated idempotency key with another event name or other data, storing nothing', async () => {
    const first = await publish('idem-x', { a: 1 }, 'created', 'key-1');
    await expect(publish('idem-x', { a: 2 }, 'created', 'key-1')).rejects.toMatchObject({ code: 'idempotency_key_reused', status: 422 });
    await expect(publish('idem-x', { a: 1 }, 'updated', 'key-1')).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    // Key order is part of the data: compared as compact JSON, the order kept.
    await expect(publish('idem-x', JSON.parse('{"b":0,"a":1}') as unknown, 'created', 'key-1')).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    const page = await broker.history('idem-x', { limit: 100 });
    expect(page.events.map((event) => event.id)).toEqual([first.id]);
  });

  it('scopes idempotency keys to their publisher: two publishers with one key each store their event', async () => {
    const scoped = (scope: string | undefined, data: unknown) =>
      broker.publish({ channel: 'idem-p', event: 'message', dataJson: JSON.stringify(data), idempotencyKey: 'k', ...(scope === undefined ? {} : { idempotencyScope: scope }) });
    const alice = await scoped('sub:alice', 'from alice');
    const bob = await scoped('sub:bob', 'from bob');
    const shared = await scoped(undefined, 'from the shared scope');
    expect([alice.duplicate, bob.duplicate, shared.duplicate]).toEqual([false, false, false]);
    expect(await scoped('sub:alice', 'from alice')).toEqual({ ...alice, duplicate: true });
    await expect(scoped('sub:bob', 'other')).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    const page = await broker.history('idem-p', { limit: 100 });
    expect(page.events.map((event) => event.dataJson)).toEqual(['"from alice"', '"from bob"', '"from the shared scope"']);
  });

  it('scopes idempotency keys to their channel', async () => {
    const onA = await publish('idem-a', 1, 'message', 'shared');
    const onB = await publish('idem-b', 1, 'message', 'shared');
    expect(onA.duplicate).toBe(false);
    expect(onB.duplicate).toBe(false);
    expect(onB.channel).toBe('idem-b');
  });

  it('delivers the events of a subscribed channel to the listener in publish order', async () => {
    await broker.subscribe('live');
    const ids: number[] = [];
    for (let n = 0; n < 10; n++) ids.push((await publish('live', n, n % 2 === 0 ? 'even' : 'odd')).id);
    await recorder.waitFor('live', 10);
    const delivered = recorder.on('live');
    expect(delivered.map((event) => event.id)).toEqual(ids);
    expect(delivered.map((event) => event.event)).toEqual(ids.map((_, n) => (n % 2 === 0 ? 'even' : 'odd')));
    expect(delivered.map((event) => event.dataJson)).toEqual(ids.map((_, n) => String(n)));
  });

  it('does not deliver the events of a channel nobody subscribed to', async () => {
    await broker.subscribe('watched');
    await publish('unwatched', 'x');
    await publish('watched', 'y');
    await recorder.waitFor('watched', 1);
    expect(recorder.deliveries.map((delivery) => delivery.channel)).toEqual(['watched']);
  });

  it('stops delivering a channel after unsubscribe', async () => {
    await broker.subscribe('leaving');
    await broker.subscribe('staying');
    await publish('leaving', 'before');
    await recorder.waitFor('leaving', 1);
    await broker.unsubscribe('leaving');
    await publish('leaving', 'after');
    // Deliveries on one connection keep publish order: once this arrives, "after" would have too.
    await publish('staying', 'marker');
    await recorder.waitFor('staying', 1);
    expect(recorder.on('leaving').map((event) => event.dataJson)).toEqual(['"before"']);
  });

  it('treats subscribe as idempotent and unsubscribe of an unknown channel as harmless', async () => {
    await broker.subscribe('twice');
    await broker.subscribe('twice');
    await expect(broker.unsubscribe('never-subscribed')).resolves.toBeUndefined();
    await publish('twice', 1);
    await publish('twice', 2);
    await recorder.waitFor('twice', 2);
    expect(recorder.on('twice')).toHaveLength(2);
  });

  it('gives 200 concurrent publishes distinct consecutive ids, with history and delivery in id order', async () => {
    const bigStores = await factory.create(1000);
    const big = bigStores.events;
    const bigRecorder = new Recorder(big);
    try {
      await big.subscribe('race');
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, n) => big.publish({ channel: 'race', event: 'message', dataJson: String(n) })),
      );
      const ids = results.map((result) => result.id).sort((a, b) => a - b);
      expect(new Set(ids).size).toBe(200);
      expect(ids).toEqual(consecutiveFrom(ids[0]!, 200));

      const page = await big.history('race', { limit: 1000 });
      expect(page.events.map((event) => event.id)).toEqual(ids);
      const dataById = new Map(results.map((result, n) => [result.id, String(n)]));
      expect(page.events.every((event) => dataById.get(event.id) === event.dataJson)).toBe(true);

      await bigRecorder.waitFor('race', 200);
      expect(bigRecorder.on('race').map((event) => event.id)).toEqual(ids);
    } finally {
      await bigStores.close();
    }
  });

  it('cuts a history slice before the event that would pass the page bytes, with at least one event and `more` per direction', async () => {
    // Each stored entry is 1000 bytes, é counted as the 2 bytes it takes in UTF-8.
    const paged = await factory.create(100, 3500);
    try {
      const seed = (await paged.events.publish({ channel: 'paged', event: 'message', dataJson: '""' })).id;
      const emptyEntry = `{"id":"${seed}","event":"message","data":""}`;
      const rest = 1000 - Buffer.byteLength(emptyEntry);
      const padding = 'é'.repeat(Math.floor(rest / 2)) + 'a'.repeat(rest % 2);
      const big: number[] = [];
      for (let n = 0; n < 10; n++) big.push((await paged.events.publish({ channel: 'paged', event: 'message', dataJson: JSON.stringify(padding) })).id);
      const first = await paged.events.history('paged', { after: seed, limit: 100 });
      expect(first.events.map((event) => Buffer.byteLength(event.raw))).toEqual([1000, 1000, 1000]);
      expect(first.events.map((event) => event.id)).toEqual(big.slice(0, 3));
      expect(first.more).toBe(true);
      const all = [...first.events];
      for (let page = first; page.more; ) {
        page = await paged.events.history('paged', { after: all[all.length - 1]!.id, limit: 100 });
        expect(page.events.length).toBeGreaterThan(0);
        all.push(...page.events);
      }
      expect(all.map((event) => event.id)).toEqual(big);

      const newest = await paged.events.history('paged', { limit: 100 });
      expect(newest.events.map((event) => event.id)).toEqual(big.slice(7));
      expect(newest.more).toBe(true);
      expect((await paged.events.history('paged', { after: big[8]!, limit: 100 })).more).toBe(false);

      // One event larger than a page still comes, alone.
      const huge = await paged.events.publish({ channel: 'paged', event: 'message', dataJson: JSON.stringify('x'.repeat(5000)) });
      expect((await paged.events.history('paged', { after: big[9]!, limit: 100 })).events.map((event) => event.id)).toEqual([huge.id]);
      expect((await paged.events.history('paged', { limit: 100 })).events.map((event) => event.id)).toEqual([huge.id]);
    } finally {
      await paged.close();
    }
  });

  it('answers `more` false when a slice holds the whole retained range', async () => {
    const ids = [(await publish('whole', 1)).id, (await publish('whole', 2)).id];
    expect(await broker.history('whole', { limit: 10 })).toMatchObject({ more: false });
    expect(await broker.history('whole', { after: 0, limit: 10 })).toMatchObject({ more: false });
    expect(await broker.history('whole', { after: ids[0]!, limit: 10 })).toMatchObject({ more: false });
    expect(await broker.history('whole', { after: 0, limit: 1 })).toMatchObject({ more: true });
  });

  it('keeps a publish request\'s own historySize instead of the broker\'s', async () => {
    for (let n = 0; n < 4; n++) await broker.publish({ channel: 'own-size', event: 'message', dataJson: String(n), historySize: 2 });
    const page = await broker.history('own-size', { limit: 100 });
    expect(page.events.map((event) => event.dataJson)).toEqual(['2', '3']);
  });

  it('forgets a channel after a publish request\'s own historyTtlS', async () => {
    await broker.publish({ channel: 'own-ttl', event: 'message', dataJson: '1', historyTtlS: 1 });
    const deadline = Date.now() + 10_000;
    while ((await broker.history('own-ttl', { limit: 10 })).events.length > 0) {
      if (Date.now() > deadline) throw new Error('the history never expired');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it('delivers an ephemeral event to the ephemeral receiver, storing nothing and taking no id', async () => {
    const received: Array<[string, string, string]> = [];
    const got = new Promise<void>((resolve) =>
      broker.onEphemeral((channel, event, dataJson) => {
        received.push([channel, event, dataJson]);
        resolve();
      }),
    );
    await broker.subscribe('eph');
    await broker.publishEphemeral('eph', 'typing', '{"who":"ann"}');
    await got;
    expect(received).toEqual([['eph', 'typing', '{"who":"ann"}']]);
    expect(recorder.on('eph')).toEqual([]);
    expect((await broker.history('eph', { limit: 10 })).events).toEqual([]);
    // The channel's ids are untouched: the first stored publish still starts it.
    const first = await publish('eph', 1);
    expect(first.id).toBeGreaterThan(Date.now() * 1000 - 60_000_000);
  });

  it('closes without rejecting, also twice', async () => {
    const extra = await factory.create(10);
    await expect(extra.close()).resolves.toBeUndefined();
    await expect(extra.close()).resolves.toBeUndefined();
  });
});

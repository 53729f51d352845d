import type { Brokers } from '../../src/broker/create-broker';
import type { PresenceSignal, PresenceStore } from '../../src/broker/presence-store';
import { uniquePrefix } from '../helpers/test-server';
import { memoryBrokers, redisBrokers } from './brokers';

/** Records joins and leaves as "join alice" and lets a test await one (no sleeps). */
class SignalRecorder {
  readonly heard: string[] = [];
  readonly data: string[] = [];
  private waiters: Array<() => void> = [];

  constructor(broker: PresenceStore) {
    broker.onPresence((_channel: string, signal: PresenceSignal, dataJson: string) => {
      this.heard.push(`${signal} ${(JSON.parse(dataJson) as { sub: string }).sub}`);
      this.data.push(dataJson);
      for (const waiter of [...this.waiters]) waiter();
    });
  }

  /** Resolves once `signal` was heard `times` times. */
  waitFor(signal: string, times = 1, timeoutMs = 5000): Promise<void> {
    const done = (): boolean => this.heard.filter((heard) => heard === signal).length >= times;
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${signal}"; heard ${JSON.stringify(this.heard)}`)), timeoutMs);
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }
}

const TTL_MS = 60_000;

describe.each([
  ['MemoryPresenceStore', (): Promise<Brokers> => memoryBrokers()],
  ['RedisPresenceStore', (): Promise<Brokers> => redisBrokers()],
])('%s', (_name, create) => {
  let stores: Brokers;
  let broker: PresenceStore;
  beforeEach(async () => {
    stores = await create();
    broker = stores.presence;
  });
  afterEach(() => stores.close());

  it('stores counts and infos, announces a first arrival and a last departure on subscribed channels only', async () => {
    const recorder = new SignalRecorder(broker);
    await stores.events.subscribe('room');
    await broker.writePresence(
      [
        { channel: 'room', connections: 3, members: [{ sub: 'alice', connections: 2, infoJson: '{"name":"Alice"}' }] },
        { channel: 'other', connections: 1, members: [{ sub: 'alice', connections: 1, infoJson: '{}' }] },
      ],
      TTL_MS,
    );
    await recorder.waitFor('join alice');
    await expect(broker.readPresence('room')).resolves.toEqual({
      connections: 3,
      members: [{ sub: 'alice', connections: 2, infoJson: '{"name":"Alice"}' }],
    });
    await expect(broker.readPresence('other')).resolves.toEqual({ connections: 1, members: [{ sub: 'alice', connections: 1, infoJson: '{}' }] });
    expect(JSON.parse(recorder.data[0]!)).toEqual({ channel: 'room', sub: 'alice', info: { name: 'Alice' } });

    await broker.writePresence([{ channel: 'room', connections: 1, members: [{ sub: 'alice', connections: 0, infoJson: '{}' }] }], TTL_MS);
    await recorder.waitFor('leave alice');
    expect(recorder.heard).toEqual(['join alice', 'leave alice']);
    await expect(broker.readPresence('room')).resolves.toEqual({ connections: 1, members: [] });
    await broker.writePresence([{ channel: 'room', connections: 0, members: [] }], TTL_MS);
    await expect(broker.readPresence('room')).resolves.toEqual({ connections: 0, members: [] });
  });

  it('treats quoting characters in subs and channels as data', async () => {
    const recorder = new SignalRecorder(broker);
    await stores.events.subscribe('a:b');
    const sub = 'he said "hi"\\ \u00e9 :: </script>';
    await broker.writePresence([{ channel: 'a:b', connections: 1, members: [{ sub, connections: 1, infoJson: '{"x":[1,"\\""]}' }] }], TTL_MS);
    await recorder.waitFor(`join ${sub}`);
    expect(JSON.parse(recorder.data[0]!)).toEqual({ channel: 'a:b', sub, info: { x: [1, '"'] } });
    await expect(broker.readPresence('a:b')).resolves.toEqual({ connections: 1, members: [{ sub, connections: 1, infoJson: '{"x":[1,"\\""]}' }] });
  });
});

describe('RedisPresenceStore over several processes', () => {
  const brokers: Brokers[] = [];
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((broker) => broker.close()));
  });

  /** Each process's presence store, with `subscribe` of its event broker beside it. */
  async function processes(count: number): Promise<Array<PresenceStore & { subscribe(channel: string): Promise<void> }>> {
    const prefix = uniquePrefix();
    for (let n = 0; n < count; n++) brokers.push(await redisBrokers({ prefix }));
    return brokers.map((stores) => Object.assign(stores.presence, { subscribe: (channel: string) => stores.events.subscribe(channel) }));
  }

  it('joins once when two processes hold a sub, leaves only when both let go, and sums the counts', async () => {
    const [first, second] = await processes(2);
    const recorder = new SignalRecorder(first!);
    await first!.subscribe('room');
    const entry = (connections: number): { sub: string; connections: number; infoJson: string } => ({ sub: 'bob', connections, infoJson: '{}' });
    await first!.writePresence([{ channel: 'room', connections: 1, members: [entry(1)] }], TTL_MS);
    await second!.writePresence([{ channel: 'room', connections: 4, members: [entry(2)] }], TTL_MS);
    await expect(second!.readPresence('room')).resolves.toEqual({ connections: 5, members: [entry(3)] });
    await first!.writePresence([{ channel: 'room', connections: 0, members: [entry(0)] }], TTL_MS);
    await expect(first!.readPresence('room')).resolves.toEqual({ connections: 4, members: [entry(2)] });
    await second!.writePresence([{ channel: 'room', connections: 0, members: [entry(0)] }], TTL_MS);
    await recorder.waitFor('leave bob');
    expect(recorder.heard).toEqual(['join bob', 'leave bob']);
  });

  it("sweeps a silent process's expired entries on another's write, announcing the leave; its next write joins again", async () => {
    const [silent, survivor] = await processes(2);
    const recorder = new SignalRecorder(survivor!);
    await survivor!.subscribe('room');
    await silent!.writePresence([{ channel: 'room', connections: 2, members: [{ sub: 'carol', connections: 2, infoJson: '{"v":1}' }] }], 50);
    await recorder.waitFor('join carol');
    // Unexpired entries are never swept; the read leaves out expired ones even before a sweep.
    for (;;) {
      await survivor!.writePresence([{ channel: 'room', connections: 1, members: [] }], TTL_MS);
      if (recorder.heard.includes('leave carol')) break;
    }
    expect(JSON.parse(recorder.data[1]!)).toEqual({ channel: 'room', sub: 'carol', info: { v: 1 } });
    await expect(survivor!.readPresence('room')).resolves.toEqual({ connections: 1, members: [] });
    // A renewal that finds its entry gone writes it in full again.
    await silent!.writePresence([{ channel: 'room', connections: 2, members: [{ sub: 'carol', connections: 2, infoJson: '{"v":1}' }], renewal: true }], TTL_MS);
    await recorder.waitFor('join carol', 2);
    expect(recorder.heard).toEqual(['join carol', 'leave carol', 'join carol']);
    await expect(survivor!.readPresence('room')).resolves.toEqual({ connections: 3, members: [{ sub: 'carol', connections: 2, infoJson: '{"v":1}' }] });
  });
});

describe('RedisPresenceStore after an outage longer than the entries live', () => {
  const brokers: Brokers[] = [];
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((broker) => broker.close()));
  });

  it('keeps members that every process still holds: no leave and no second join, neither its own nor another rider-out', async () => {
    const prefix = uniquePrefix();
    for (let n = 0; n < 2; n++) brokers.push(await redisBrokers({ prefix }));
    const [first, second] = brokers as [Brokers, Brokers];
    const recorder = new SignalRecorder(first.presence);
    await first.events.subscribe('room');
    const update = (sub: string, ttl: Partial<{ renewal: boolean; restore: boolean }> = {}) => ({
      channel: 'room',
      connections: 1,
      members: [{ sub, connections: 1, infoJson: '{}' }],
      complete: true,
      ...ttl,
    });
    await first.presence.writePresence([update('alice')], 50);
    await second.presence.writePresence([update('bob')], 50);
    await recorder.waitFor('join bob');
    // The outage: nobody refreshes until every entry expired.
    for (;;) {
      const snapshot = await first.presence.readPresence('room');
      if (snapshot.members.length === 0) break;
    }
    // Each process's first write once Redis is back is a restore; the next ones sweep as usual.
    await first.presence.writePresence([update('alice', { restore: true })], TTL_MS);
    await second.presence.writePresence([update('bob', { restore: true })], TTL_MS);
    await first.presence.writePresence([update('alice', { renewal: true })], TTL_MS);
    await second.presence.writePresence([{ channel: 'room', connections: 2, members: [{ sub: 'dave', connections: 1, infoJson: '{}' }] }], TTL_MS);
    await recorder.waitFor('join dave');
    expect(recorder.heard).toEqual(['join alice', 'join bob', 'join dave']);
    const members = (await first.presence.readPresence('room')).members.map((member) => member.sub).sort();
    expect(members).toEqual(['alice', 'bob', 'dave']);
  });
});

describe.each([
  ['MemoryPresenceStore', (): Promise<Brokers> => memoryBrokers({ maxPresenceMembers: 2 })],
  ['RedisPresenceStore', (): Promise<Brokers> => redisBrokers({ maxPresenceMembers: 2 })],
])('%s with a member cap of 2', (_name, create) => {
  let stores: Brokers;
  beforeEach(async () => {
    stores = await create();
  });
  afterEach(() => stores.close());

  const entry = (sub: string, connections = 1): { sub: string; connections: number; infoJson: string } => ({ sub, connections, infoJson: '{}' });

  it('counts a newcomer past the cap in connections but neither lists nor announces it, until a place frees and a refresh writes it again', async () => {
    const recorder = new SignalRecorder(stores.presence);
    await stores.events.subscribe('crowd');
    await stores.presence.writePresence([{ channel: 'crowd', connections: 3, members: [entry('alice'), entry('bob'), entry('carol')] }], TTL_MS);
    const full = await stores.presence.readPresence('crowd');
    expect(full.connections).toBe(3);
    expect(full.members.map((member) => member.sub).sort()).toEqual(['alice', 'bob']);

    await stores.presence.writePresence([{ channel: 'crowd', connections: 2, members: [entry('bob', 0)] }], TTL_MS);
    await recorder.waitFor('leave bob');
    // The next refresh lists everyone this process holds; carol now fits.
    await stores.presence.writePresence([{ channel: 'crowd', connections: 2, members: [entry('alice'), entry('carol')], renewal: true, complete: true }], TTL_MS);
    await recorder.waitFor('join carol');
    expect(recorder.heard).toEqual(['join alice', 'join bob', 'leave bob', 'join carol']);
    const after = await stores.presence.readPresence('crowd');
    expect(after.members.map((member) => member.sub).sort()).toEqual(['alice', 'carol']);
  });
});

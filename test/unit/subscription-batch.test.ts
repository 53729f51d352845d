import { keySlot } from '../../src/broker/redis/key-slot';
import { SubscriptionBatch, type SubscriptionTransport } from '../../src/broker/redis/subscription-batch';
import { BrokerUnavailableError } from '../../src/errors';

/** Records the commands the batch sends; each resolves or fails as the test says. */
class RecordingTransport implements SubscriptionTransport {
  readonly commands: Array<{ direction: 'subscribe' | 'unsubscribe'; channels: string[] }> = [];
  failWith: Error | null = null;

  constructor(private readonly grouped = false) {}

  groupOf(channel: string): number {
    return this.grouped ? keySlot(channel) : 0;
  }

  subscribe(channels: string[]): Promise<unknown> {
    this.commands.push({ direction: 'subscribe', channels });
    return this.failWith ? Promise.reject(this.failWith) : Promise.resolve(channels.length);
  }

  unsubscribe(channels: string[]): Promise<unknown> {
    this.commands.push({ direction: 'unsubscribe', channels });
    return Promise.resolve(0);
  }
}

describe('SubscriptionBatch', () => {
  it('sends the subscribes of one event-loop turn as one command per 1000 channels', async () => {
    const transport = new RecordingTransport();
    const wanted = new Set<string>();
    const batch = new SubscriptionBatch(transport, (channel) => wanted.has(channel));
    const channels = Array.from({ length: 2500 }, (_, n) => `user.${n}`);
    for (const channel of channels) wanted.add(channel);
    await Promise.all(channels.map((channel) => batch.subscribe(channel)));
    expect(transport.commands.map((command) => command.channels.length)).toEqual([1000, 1000, 500]);
    expect(transport.commands.flatMap((command) => command.channels)).toEqual(channels);
  });

  it('groups by slot on a Cluster: one SSUBSCRIBE names channels of one slot only', async () => {
    const transport = new RecordingTransport(true);
    const batch = new SubscriptionBatch(transport, () => true);
    // `a` and `{a}x` share a slot (hash tag); `b` has another.
    await Promise.all(['a', 'b', '{a}x'].map((channel) => batch.subscribe(channel)));
    const bySlot = transport.commands.map((command) => command.channels);
    expect(bySlot).toHaveLength(2);
    expect(bySlot).toContainEqual(['a', '{a}x']);
    expect(bySlot).toContainEqual(['b']);
  });

  it('settles a subscribe and unsubscribe of the same turn to the last word', async () => {
    const transport = new RecordingTransport();
    const wanted = new Set(['kept']);
    const batch = new SubscriptionBatch(transport, (channel) => wanted.has(channel));
    const subscribed = batch.subscribe('dropped');
    batch.unsubscribe('dropped');
    await Promise.all([subscribed, batch.subscribe('kept')]);
    expect(transport.commands).toEqual([
      { direction: 'unsubscribe', channels: ['dropped'] },
      { direction: 'subscribe', channels: ['kept'] },
    ]);
  });

  it('sends the next turn separately, and rejects every waiter of a failed command with BrokerUnavailableError', async () => {
    const transport = new RecordingTransport();
    const batch = new SubscriptionBatch(transport, () => true);
    await batch.subscribe('first');
    transport.failWith = new Error('Connection is closed.');
    const results = await Promise.allSettled([batch.subscribe('second'), batch.subscribe('third')]);
    expect(transport.commands).toHaveLength(2);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(BrokerUnavailableError);
    }
  });

  it('rejects what waits for its turn when the connection is lost, sending nothing', async () => {
    const transport = new RecordingTransport();
    const batch = new SubscriptionBatch(transport, () => true);
    const waiting = batch.subscribe('late');
    batch.failPending(new BrokerUnavailableError('gone'));
    await expect(waiting).rejects.toBeInstanceOf(BrokerUnavailableError);
    await new Promise((resolve) => setImmediate(resolve));
    expect(transport.commands).toEqual([]);
  });
});

describe('keySlot', () => {
  it.each([
    ['123456789', 12739],
    ['foo', 12182],
    ['{user1000}.following', 3443],
    ['{user1000}.followers', 3443],
    ['foo{}{bar}', 8363],
    ['ssehub:{chat}:live', keySlot('chat')],
  ])('puts %j in slot %i, as Redis does', (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });
});

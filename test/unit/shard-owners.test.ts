import { keySlot } from '../../src/broker/redis/key-slot';
import { ShardOwners } from '../../src/broker/redis/shard-owners';

describe('ShardOwners', () => {
  const owner = new Map<number, string>();
  const watch = new ShardOwners((slot) => owner.get(slot) ?? 'node-a');

  it('reports a change of the master owning a slot in use, once', () => {
    watch.add('orders');
    watch.add('{orders}x');
    expect(watch.changed()).toBe(false);
    owner.set(keySlot('orders'), 'node-b');
    expect(watch.changed()).toBe(true);
    expect(watch.changed()).toBe(false);
  });

  it('stops watching a slot once its last channel is gone', () => {
    watch.delete('orders');
    owner.set(keySlot('orders'), 'node-c');
    // `{orders}x` still holds the slot.
    expect(watch.changed()).toBe(true);
    watch.delete('{orders}x');
    owner.set(keySlot('orders'), 'node-d');
    expect(watch.changed()).toBe(false);
  });
});

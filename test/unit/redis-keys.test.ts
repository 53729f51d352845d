import { EventEmitter } from 'node:events';
import { BrokerHealth } from '../../src/broker/redis/health';
import { keySlot } from '../../src/broker/redis/key-slot';
import { RedisKeys } from '../../src/broker/redis/keys';

describe('Redis key and channel names', () => {
  it.each([false, true])('maps a hub channel to its pub/sub channel and back (sharded: %s), names with braces and colons included', (sharded) => {
    const keys = new RedisKeys('app:', sharded);
    for (const channel of ['chat', 'a:b', 'orders.eu', 'live:x', '}:live']) expect(keys.channelOfLive(keys.live(channel))).toBe(channel);
  });

  it('ignores pub/sub names of another prefix or kind', () => {
    const classic = new RedisKeys('app:', false);
    const sharded = new RedisKeys('app:', true);
    expect(classic.channelOfLive('other:live:chat')).toBeUndefined();
    expect(classic.channelOfLive(sharded.live('chat'))).toBeUndefined();
    expect(sharded.channelOfLive(classic.live('chat'))).toBeUndefined();
    expect(sharded.channelOfLive('app:{}:live')).toBe('');
    expect(sharded.channelOfLive('app:{:live')).toBeUndefined();
  });

  it("keeps every key of a channel, and its shard channel, in the channel's Cluster slot", () => {
    const keys = new RedisKeys('app:', true);
    const slot = keySlot('orders.eu');
    const names = [...keys.publishKeys('orders.eu', 'k1'), keys.history('orders.eu'), ...keys.presenceKeys('orders.eu'), keys.live('orders.eu')];
    expect(names.map(keySlot)).toEqual(names.map(() => slot));
    expect(keys.ticket('t1')).toBe('app:ticket:t1');
  });
});

describe('the Redis broker health', () => {
  it('moves through one status, announcing down and resubscribed only on a change, and stays closed', () => {
    const emitter = new EventEmitter();
    const heard: string[] = [];
    emitter.on('down', () => heard.push('down'));
    emitter.on('resubscribed', () => heard.push('resubscribed'));
    let command = false;
    let subscriptions = false;
    const health = new BrokerHealth(emitter, { commandReady: () => command, subscriptionsReady: () => subscriptions });
    expect(health.status).toBe('connecting');
    command = true;
    health.update();
    expect(health.status).toBe('connecting');
    subscriptions = true;
    health.update();
    health.update();
    expect(health.status).toBe('ready');
    subscriptions = false;
    health.update();
    health.update();
    expect(health.status).toBe('down');
    health.catchUp();
    subscriptions = true;
    health.update();
    health.catchUp();
    health.close();
    health.update();
    expect(health.status).toBe('closed');
    expect(heard).toEqual(['resubscribed', 'down', 'resubscribed', 'resubscribed']);
  });
});

import { SseHubClient, type EventItem, type GapItem, type SubscriptionItem } from '../../client/src/index.js';

interface Orders {
  'orders.eu': { created: { sku: string }; cancelled: { reason: string } };
  'user.42': { message: string };
}

// The checks are the compiler's (the root typecheck covers this file); the test only runs them.
describe('typed payloads', () => {
  it('types data by channel and event name, without code generation', () => {
    const hub = new SseHubClient<Orders>({ baseUrl: 'http://127.0.0.1:1' });
    const sub = hub.subscribe(['orders.eu', 'user.42']);
    sub.close();
    const describe = (item: SubscriptionItem<Orders, 'orders.eu' | 'user.42'>): string => {
      if (item.kind !== 'event') return item.kind;
      if (item.channel === 'user.42') return item.data.toUpperCase();
      if (item.event === 'created') return item.data.sku;
      // @ts-expect-error a cancelled order has no sku
      return String(item.data.sku);
    };
    const created: EventItem<'orders.eu', 'created', { sku: string }> = { kind: 'event', channel: 'orders.eu', id: '1', event: 'created', data: { sku: 'A1' } };
    const gap: GapItem<'user.42'> = { kind: 'gap', channel: 'user.42', lastEventId: '1', firstAvailableId: null };
    expect([describe(created), describe(gap)]).toEqual(['A1', 'gap']);

    // @ts-expect-error not a channel of the map
    expect(() => hub.subscribe('other')).not.toThrow();
    const publishing = (): unknown => [
      hub.publish('orders.eu', { sku: 'B2' }, { event: 'created' }),
      // @ts-expect-error the payload of created is { sku: string }
      hub.publish('orders.eu', { sku: 2 }, { event: 'created' }),
    ];
    expect(typeof publishing).toBe('function');
  });
});

import { DisconnectedError, SseHubClient, throttledStore, UnauthorizedError, type Subscription, type SubscriptionItem } from '../../client/src/index.js';
import { disconnect, envelope, ephemeral, json, ScriptedHub, sse } from './scripted-hub';

// The client's side of three hub features: history pages with `more`, ephemeral channels
// (`history: 0`) and `hub.disconnect` from the server API.

let hub: ScriptedHub;
const subscriptions: Subscription[] = [];

beforeEach(async () => {
  hub = await ScriptedHub.start();
});

afterEach(async () => {
  for (const sub of subscriptions.splice(0)) sub.close();
  await hub.close();
});

function subscribe(client: SseHubClient, ...args: Parameters<SseHubClient['subscribe']>): Subscription {
  const sub = client.subscribe(...args);
  subscriptions.push(sub);
  return sub;
}

async function take(sub: Subscription, count: number): Promise<SubscriptionItem[]> {
  const out: SubscriptionItem[] = [];
  while (out.length < count) {
    const result = await sub.next();
    if (result.done === true) throw new Error(`ended after ${out.length} items`);
    out.push(result.value);
  }
  return out;
}

const names = (items: SubscriptionItem[]): string[] => items.map((item) => (item.kind === 'event' ? `${item.channel}#${item.id}` : `${item.kind} ${item.channel}`));

/** A client whose `headers()` hands out t1, t2, … and counts the calls. */
function countingClient(): SseHubClient {
  let calls = 0;
  return new SseHubClient({ baseUrl: hub.url, headers: () => ({ authorization: `Bearer t${++calls}` }) });
}

describe('history pages', () => {
  it('fills a hole spanning three history pages, reading on with after=<last id> while more is true', async () => {
    hub.history.set('a', Array.from({ length: 9 }, (_, index) => ({ id: String(index + 3), event: 'message', data: index + 3 })));
    hub.historyPageCap = 3;
    hub.onStream((response) => sse(response, `retry: 10\n\nid: a=2\n\n${envelope('a=12', 'a', 12, 12)}`));
    const sub = subscribe(new SseHubClient({ baseUrl: hub.url }), 'a', { cursor: 'a=2' });
    expect(names(await take(sub, 10))).toEqual(Array.from({ length: 10 }, (_, index) => `a#${index + 3}`));
    expect(hub.historyRequests.map((request) => request.query.get('after'))).toEqual(['2', '5', '8']);
    expect(sub.cursor).toBe('a=12');
  });

  it('ends a hole in one gap item, without reading again, once a page says no more events remain', async () => {
    hub.history.set('a', [{ id: '3', event: 'message', data: 3 }]);
    hub.onStream((response) => sse(response, `retry: 10\n\nid: a=2\n\n${envelope('a=9', 'a', 9, 9)}`));
    const sub = subscribe(new SseHubClient({ baseUrl: hub.url }), 'a', { cursor: 'a=2' });
    const items = await take(sub, 3);
    expect(names(items)).toEqual(['a#3', 'gap a', 'a#9']);
    expect(items[1]).toEqual({ kind: 'gap', channel: 'a', lastEventId: '3', firstAvailableId: '9' });
    expect(hub.historyRequests).toHaveLength(1);
  });
});

describe('ephemeral channels', () => {
  it('yields their events with id null, never as holes, and keeps no cursor entry for them', async () => {
    const saved: string[] = [];
    const store = throttledStore(() => 'a=1', (cursor) => void saved.push(cursor), 0);
    hub.onStream((response) =>
      sse(response, `retry: 10\n\nid: a=1\n\n${ephemeral('typing.x', { who: 'bo' }, 'typing')}${envelope('a=2', 'a', 2, 2)}${ephemeral('typing.x', { who: 'al' }, 'typing')}`),
    );
    const sub = subscribe(new SseHubClient({ baseUrl: hub.url }), ['a', 'typing.x'], { cursorStore: store });
    const items = await take(sub, 3);
    expect(items[0]).toEqual({ kind: 'event', channel: 'typing.x', id: null, event: 'typing', data: { who: 'bo' } });
    expect(names(items)).toEqual(['typing.x#null', 'a#2', 'typing.x#null']);
    await sub.flush();
    expect(hub.historyRequests).toHaveLength(0);
    expect(saved.at(-1)).toBe('a=2');
    expect(saved.filter((cursor) => cursor.includes('typing'))).toEqual([]);
  });

  it('drops an entry a cursor had for a channel the stream starts without (now ephemeral)', async () => {
    hub.onStream((response) => sse(response, `retry: 10\n\nid: a=1\n\n${ephemeral('typing.x', 1)}`));
    const sub = subscribe(new SseHubClient({ baseUrl: hub.url }), ['a', 'typing.x'], { cursor: 'a=1,typing.x=5' });
    expect(names(await take(sub, 1))).toEqual(['typing.x#null']);
    expect(sub.cursor).toBe('a=1');
  });

  it('resolves a publish answered 202 (nothing stored) with id null', async () => {
    hub.onPublish((response, request) => json(response, 202, { channel: 'typing.x', event: (JSON.parse(request.body) as { event: string }).event }));
    const client = new SseHubClient({ baseUrl: hub.url });
    expect(await client.publish('typing.x', { who: 'bo' }, { event: 'typing' })).toEqual({ id: null, channel: 'typing.x', event: 'typing', duplicate: false });
  });
});

describe('hub.disconnect', () => {
  it('with reconnect false, yields what came before, then ends the subscription with a DisconnectedError', async () => {
    hub.onStream((response) => {
      sse(response, `retry: 10\n\nid: a=0\n\n${envelope('a=1', 'a', 1, 1)}${disconnect('banned by moderator', false)}`);
      response.end();
    });
    const sub = subscribe(new SseHubClient({ baseUrl: hub.url }), 'a', { backoff: { initialMs: 1 } });
    expect(names(await take(sub, 1))).toEqual(['a#1']);
    const error = (await sub.next().catch((caught: unknown) => caught)) as DisconnectedError;
    expect(error).toBeInstanceOf(DisconnectedError);
    expect([error.reason, error.code]).toEqual(['banned by moderator', 'disconnected']);
    expect(sub.state).toBe('closed');
    expect(hub.streamRequests).toHaveLength(1);
  });

  it('with reconnect true, reconnects at once from its cursor; a revoked token meets its 401 and headers() is asked once more', async () => {
    const unauthorized = (response: Parameters<typeof json>[0]): void => json(response, 401, { error: { code: 'unauthorized', message: 'revoked' } });
    hub.onStream(
      (response) => {
        // retry: 60 s: only a reconnect that skips the backoff comes back within the test's time.
        sse(response, `retry: 60000\n\nid: a=0\n\n${envelope('a=1', 'a', 1, 1)}${disconnect('token revoked', true)}`);
        response.end();
      },
      unauthorized,
      unauthorized,
    );
    const sub = subscribe(countingClient(), 'a', { backoff: { random: () => 0.99, maxMs: 120_000 } });
    expect(names(await take(sub, 1))).toEqual(['a#1']);
    const error = await sub.next().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(hub.streamRequests.map((request) => [request.headers.authorization, request.query.get('lastEventId')])).toEqual([
      ['Bearer t1', null],
      ['Bearer t2', 'a=1'],
      ['Bearer t3', 'a=1'],
    ]);
  });

  it('with reconnect true, resumes without a gap or duplicate when the credential is still good', async () => {
    hub.onStream(
      (response) => sse(response, `retry: 60000\n\nid: a=0\n\n${envelope('a=1', 'a', 1, 1)}${disconnect('moved', true)}`),
      (response) => sse(response, `retry: 10\n\nid: a=1\n\n${envelope('a=2', 'a', 2, 2)}`),
    );
    const sub = subscribe(countingClient(), 'a', { backoff: { random: () => 0.99, maxMs: 120_000 } });
    expect(names(await take(sub, 2))).toEqual(['a#1', 'a#2']);
    expect(hub.streamRequests.map((request) => request.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
  });
});

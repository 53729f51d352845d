import { SseHubClient, type SubscriptionItem, type Subscription } from '../../client/src/index.js';
import { Backoff } from '../../client/src/backoff.js';
import { ForbiddenError, UnauthorizedError, ValidationError, type SseHubError } from '../../client/src/errors.js';
import { NetworkSource } from '../../client/src/network-source.js';
import { Transport } from '../../client/src/transport.js';
import { envelope, json, ScriptedHub, sse } from './scripted-hub';

let hub: ScriptedHub;
let client: SseHubClient;
const subscriptions: Subscription[] = [];

beforeEach(async () => {
  hub = await ScriptedHub.start();
  client = new SseHubClient({ baseUrl: hub.url });
});

afterEach(async () => {
  for (const sub of subscriptions.splice(0)) sub.close();
  await hub.close();
});

function track<T extends Subscription>(sub: T): T {
  subscriptions.push(sub);
  return sub;
}

/** Takes `count` items, with the cursor read after each (as a consumer saving it would). */
async function take(sub: Subscription, count: number): Promise<Array<{ item: SubscriptionItem; cursor: string }>> {
  const out: Array<{ item: SubscriptionItem; cursor: string }> = [];
  while (out.length < count) {
    const result = await sub.next();
    if (result.done === true) throw new Error(`ended after ${out.length} items`);
    out.push({ item: result.value, cursor: sub.cursor });
  }
  return out;
}

function ids(items: Array<{ item: SubscriptionItem }>): string[] {
  return items.map(({ item }) => (item.kind === 'event' ? `${item.channel}#${item.id}` : `${item.kind} ${item.channel}`));
}

describe('@ssehub/client against a scripted hub', () => {
  it('always uses GET /streams, sends the cursor as lastEventId, and takes the priming block as the start position', async () => {
    hub.onStream((response) => sse(response, `retry: 2000\n\nid: a=5,b=7\n\n${envelope('a=6,b=7', 'a', 6, { n: 6 })}`));
    const sub = track(client.subscribe('a', { cursor: 'a=5' }));
    const [first] = await take(sub, 1);
    expect(first).toEqual({ item: { kind: 'event', channel: 'a', id: '6', event: 'message', data: { n: 6 } }, cursor: 'a=6' });
    const request = hub.streamRequests[0]!;
    expect(request.query.getAll('channel')).toEqual(['a']);
    expect(request.query.get('lastEventId')).toBe('a=5');

    hub.onStream((response) => sse(response, `retry: 2000\n\nid: a=3,b=7\n\n${envelope('a=4,b=7', 'b', 8, 'x', 'created')}`));
    const two = track(client.subscribe(['b', 'a']));
    const [item] = await take(two, 1);
    expect(item).toEqual({ item: { kind: 'event', channel: 'b', id: '8', event: 'created', data: 'x' }, cursor: 'a=3,b=8' });
    expect(hub.streamRequests[1]!.query.getAll('channel')).toEqual(['a', 'b']);
    expect(hub.streamRequests[1]!.query.has('lastEventId')).toBe(false);
  });

  it('drops events it already yielded when a reconnect replays them, and resumes from its cursor', async () => {
    hub.onStream(
      (response) => {
        sse(response, `retry: 10\n\nid: a=0\n\n${envelope('a=1', 'a', 1, 1)}${envelope('a=2', 'a', 2, 2)}`);
        response.end();
      },
      (response) => sse(response, `retry: 10\n\nid: a=1\n\n${envelope('a=2', 'a', 2, 2)}${envelope('a=3', 'a', 3, 3)}`),
    );
    const sub = track(client.subscribe('a', { cursor: 'a=0', backoff: { initialMs: 1 } }));
    expect(ids(await take(sub, 3))).toEqual(['a#1', 'a#2', 'a#3']);
    expect(hub.streamRequests[1]!.query.get('lastEventId')).toBe('a=2');
  });

  it('fills an id jump from the history route before yielding the later event; only what history lacks is a gap', async () => {
    hub.history.set('a', [5, 6, 7, 8, 9].map((id) => ({ id: String(id), event: 'message', data: id })));
    hub.onStream((response) => sse(response, `retry: 10\n\nid: a=2\n\n${envelope('a=10', 'a', 10, 10)}`));
    const sub = track(client.subscribe('a', { cursor: 'a=2' }));
    const items = await take(sub, 7);
    expect(ids(items)).toEqual(['gap a', 'a#5', 'a#6', 'a#7', 'a#8', 'a#9', 'a#10']);
    expect(items[0]!.item).toEqual({ kind: 'gap', channel: 'a', lastEventId: '2', firstAvailableId: '5' });
    expect(items[0]!.cursor).toBe('a=4');
    expect(hub.requests.find((request) => request.path === '/channels/a/events')?.query.get('after')).toBe('2');
  });

  it('abandons a history read that does not answer within watchdogMs and resumes from its position', async () => {
    let hungReadClosed = false;
    hub.onHistory((response) => response.on('close', () => (hungReadClosed = true)));
    hub.onStream(
      (response) => sse(response, `retry: 10\n\nid: a=2\n\n${envelope('a=5', 'a', 5, 5)}`),
      (response) => sse(response, `retry: 10\n\nid: a=2\n\n${[3, 4, 5].map((id) => envelope(`a=${id}`, 'a', id, id)).join('')}`),
    );
    const sub = track(client.subscribe('a', { cursor: 'a=2', watchdogMs: 300, backoff: { initialMs: 1 } }));
    expect(ids(await take(sub, 3))).toEqual(['a#3', 'a#4', 'a#5']);
    expect(hub.historyRequests.map((request) => request.query.get('after'))).toEqual(['2']);
    expect(hub.streamRequests.map((request) => request.query.get('lastEventId'))).toEqual(['a=2', 'a=2']);
    await hub.until(() => hungReadClosed, 'the client to close the history read it gave up');
  });

  it('forgets earlier failures when the hub asks for a reconnect (hub.reauth), however short its streams live', async () => {
    const busy = (response: Parameters<typeof json>[0]): void => json(response, 503, { error: { code: 'broker_unavailable', message: 'later' } });
    const reauth = `event: hub.reauth\ndata: {"expiresAt":"${new Date(Date.now() + 2000).toISOString()}"}\n\n`;
    hub.onStream(
      busy,
      busy,
      (response) => sse(response, `retry: 10\n\nid: a=0\n\n${envelope('a=1', 'a', 1, 1)}${reauth}`),
      (response) => sse(response, `retry: 10\n\nid: a=1\n\n${envelope('a=2', 'a', 2, 2)}`),
    );
    // Every delay 0 (random () => 0): the attempt count, not the clock, shows what was counted.
    const backoff = new Backoff({ random: () => 0 });
    const controller = new AbortController();
    const source = new NetworkSource({
      transport: new Transport({ baseUrl: hub.url }),
      channels: ['a'],
      cursor: () => 'a=0',
      backoff,
      watchdogMs: 10_000,
      signal: controller.signal,
      onState: () => undefined,
    });
    const attemptsAt = new Map<string, number>();
    try {
      while (!attemptsAt.has('2')) {
        for (const item of await source.next()) if (item.type === 'event') attemptsAt.set(item.id ?? '', backoff.attempts);
      }
    } finally {
      controller.abort();
    }
    // Two failures counted; the renewal the hub asked for, from a stream that worked, reset them.
    expect(Object.fromEntries(attemptsAt)).toEqual({ 1: 2, 2: 0 });
    expect(hub.streamRequests).toHaveLength(4);
  });

  it("yields the hub's hub.gap as a gap item for that channel only", async () => {
    hub.onStream((response) =>
      sse(
        response,
        `retry: 10\n\nid: a=3,b=1\n\nevent: hub.gap\ndata: {"channel":"a","lastEventId":"3","firstAvailableId":"40"}\n\n${envelope('a=40,b=1', 'a', 40, 'x')}${envelope('a=40,b=2', 'b', 2, 'y')}`,
      ),
    );
    const sub = track(client.subscribe(['a', 'b'], { cursor: 'a=3,b=1' }));
    const items = await take(sub, 3);
    expect(items.map(({ item }) => item)).toEqual([
      { kind: 'gap', channel: 'a', lastEventId: '3', firstAvailableId: '40' },
      { kind: 'event', channel: 'a', id: '40', event: 'message', data: 'x' },
      { kind: 'event', channel: 'b', id: '2', event: 'message', data: 'y' },
    ]);
    expect(items[2]!.cursor).toBe('a=40,b=2');
  });

  it("waits at least the busy answer's retry: before coming back", async () => {
    hub.onStream(
      (response) => {
        sse(response, 'retry: 400\n\n');
        response.end();
      },
      (response) => sse(response, `retry: 10\n\nid: a=0\n\n${envelope('a=1', 'a', 1, 1)}`),
    );
    const sub = track(client.subscribe('a', { backoff: { initialMs: 1 } }));
    await take(sub, 1);
    const [busy, retried] = hub.streamRequests;
    expect(retried!.atMs - busy!.atMs).toBeGreaterThanOrEqual(400);
  });

  it('retries 5xx answers with backoff, then streams', async () => {
    hub.onStream(
      (response) => json(response, 503, { error: { code: 'broker_unavailable', message: 'later' } }),
      (response) => json(response, 502, {}),
      (response) => sse(response, `retry: 10\n\nid: a=0\n\n${envelope('a=1', 'a', 1, 1)}`),
    );
    const states: string[] = [];
    const sub = track(client.subscribe('a', { backoff: { initialMs: 5 } }));
    sub.on('state', (state) => void states.push(state));
    expect(ids(await take(sub, 1))).toEqual(['a#1']);
    expect(hub.streamRequests).toHaveLength(3);
    expect(states).toContain('open');
  });

  it('calls headers again after a 401 and fails with UnauthorizedError on the second', async () => {
    let calls = 0;
    const authed = new SseHubClient({ baseUrl: hub.url, headers: () => ({ authorization: `Bearer t${++calls}` }) });
    const unauthorized = (response: Parameters<typeof json>[0]): void =>
      json(response, 401, { error: { code: 'unauthorized', message: 'token expired' } });
    hub.onStream(unauthorized, (response) => sse(response, `retry: 10\n\nid: a=0\n\n${envelope('a=1', 'a', 1, 1)}`));
    const sub = track(authed.subscribe('a'));
    expect(ids(await take(sub, 1))).toEqual(['a#1']);
    expect(hub.streamRequests.map((request) => request.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);

    hub.onStream(unauthorized, unauthorized);
    const failing = track(authed.subscribe('b'));
    const error = (await failing.next().catch((caught: unknown) => caught)) as SseHubError;
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect([error.status, error.code]).toEqual([401, 'unauthorized']);
    expect(failing.state).toBe('closed');
  });

  it('fails with ForbiddenError carrying status and code on 403, without retrying', async () => {
    hub.onStream((response) => json(response, 403, { error: { code: 'forbidden', message: 'channel secret is not granted' } }));
    const sub = track(client.subscribe('secret'));
    const error = (await sub.next().catch((caught: unknown) => caught)) as SseHubError;
    expect(error).toBeInstanceOf(ForbiddenError);
    expect([error.status, error.code]).toEqual([403, 'forbidden']);
    expect(error.message).toContain('secret');
    expect(hub.streamRequests).toHaveLength(1);
  });

  it('renews credentials on hub.reauth and resumes from its cursor without a gap or duplicate', async () => {
    let calls = 0;
    const authed = new SseHubClient({ baseUrl: hub.url, headers: async () => Promise.resolve({ authorization: `Bearer t${++calls}` }) });
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    hub.onStream(
      (response) => sse(response, `retry: 10\n\nid: a=0\n\n${envelope('a=1', 'a', 1, 1)}event: hub.reauth\ndata: {"expiresAt":"${expiresAt}"}\n\n`),
      (response) => sse(response, `retry: 10\n\nid: a=1\n\n${envelope('a=2', 'a', 2, 2)}`),
    );
    const sub = track(authed.subscribe('a'));
    expect(ids(await take(sub, 2))).toEqual(['a#1', 'a#2']);
    expect(hub.streamRequests.map((request) => [request.headers.authorization, request.query.get('lastEventId')])).toEqual([
      ['Bearer t1', null],
      ['Bearer t2', 'a=1'],
    ]);
  });

  it('reconnects when neither events nor heartbeats arrive within the watchdog time', async () => {
    hub.onStream(
      (response) => sse(response, `retry: 10\n\nid: a=4\n\n`),
      (response) => sse(response, `retry: 10\n\nid: a=4\n\n: heartbeat\n\n${envelope('a=5', 'a', 5, 5)}`),
    );
    const sub = track(client.subscribe('a', { watchdogMs: 300, backoff: { initialMs: 1 } }));
    expect(ids(await take(sub, 1))).toEqual(['a#5']);
    expect(hub.streamRequests[1]!.query.get('lastEventId')).toBe('a=4');
  });

  it('lets go of the stream when the consumer stops asking, and resumes from its cursor when it asks again', async () => {
    hub.onStream(
      (response) => sse(response, `retry: 10\n\nid: a=0\n\n${envelope('a=1', 'a', 1, 1)}`),
      (response) => sse(response, `retry: 10\n\nid: a=1\n\n${envelope('a=2', 'a', 2, 2)}`),
    );
    const sub = track(client.subscribe('a', { maxPauseMs: 100 }));
    expect(ids(await take(sub, 1))).toEqual(['a#1']);
    await hub.until(() => hub.openStreams.size === 0, 'the paused stream to be released');
    expect(ids(await take(sub, 1))).toEqual(['a#2']);
    expect(hub.streamRequests[1]!.query.get('lastEventId')).toBe('a=1');
  });

  it('ends the iteration on close() and on its AbortSignal', async () => {
    hub.onStream((response) => sse(response, `retry: 10\n\nid: a=0\n\n`));
    const controller = new AbortController();
    const sub = track(client.subscribe('a', { signal: controller.signal }));
    const pending = sub.next();
    await hub.until(() => hub.openStreams.size === 1, 'the stream');
    controller.abort();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    await hub.until(() => hub.openStreams.size === 0, 'the stream to close');
    expect(sub.state).toBe('closed');
  });

  it('delivers to on() listeners, awaiting each before the next', async () => {
    hub.onStream((response) => sse(response, `retry: 10\n\nid: a=0\n\n${envelope('a=1', 'a', 1, 1)}${envelope('a=2', 'a', 2, 2)}`));
    const sub = track(client.subscribe('a'));
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const firstHandled = new Promise<void>((resolve) => (release = resolve));
    let firstStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    const allHandled = new Promise<void>((resolve) => {
      sub.on('event', async (item) => {
        const id = item.kind === 'event' ? item.id : '';
        seen.push(`start ${id}`);
        if (id === '1') {
          firstStarted();
          await firstHandled;
        }
        seen.push(`end ${id}`);
        if (id === '2') resolve();
      });
    });
    await started;
    expect(seen).toEqual(['start 1']);
    release();
    await allHandled;
    expect(seen).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    expect(() => sub[Symbol.asyncIterator]()).toThrow(TypeError);
  });

  it('yields presence items only when asked, and validates data with a Standard Schema before yielding', async () => {
    const positive = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: (value: unknown) => (typeof value === 'number' && value > 0 ? { value: value * 10 } : { issues: [{ message: 'not positive' }] }),
      },
    };
    const typed = new SseHubClient<{ a: { message: number } }>({ baseUrl: hub.url, schemas: { a: { message: positive } } });
    hub.onStream((response) =>
      sse(response, `retry: 10\n\nid: a=0\n\nevent: hub.join\ndata: {"channel":"a","sub":"ann","info":{"x":1}}\n\n${envelope('a=1', 'a', 1, 2)}${envelope('a=2', 'a', 2, -1)}`),
    );
    const sub = track(typed.subscribe('a', { presence: true }));
    const items = await take(sub, 2);
    expect(items.map(({ item }) => item)).toEqual([
      { kind: 'presence', channel: 'a', action: 'join', sub: 'ann', info: { x: 1 } },
      { kind: 'event', channel: 'a', id: '1', event: 'message', data: 20 },
    ]);
    const error = (await sub.next().catch((caught: unknown) => caught)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect([error.channel, error.id, error.code]).toEqual(['a', '2', 'invalid_data']);
    expect(sub.cursor).toBe('a=1');
  });

  it('publishes with one Idempotency-Key across its retries and reports typed errors', async () => {
    const keys: string[] = [];
    hub.onPublish((response, request) => {
      keys.push(String(request.headers['idempotency-key']));
      if (keys.length === 1) response.socket?.destroy();
      else if (keys.length === 2) json(response, 503, { error: { code: 'broker_unavailable', message: 'later' } });
      else json(response, 200, { id: '43', channel: 'a', event: 'created' });
    });
    const result = await client.publish('a', { sku: 'A1' }, { event: 'created' });
    expect(result).toEqual({ id: '43', channel: 'a', event: 'created', duplicate: true });
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(JSON.parse(hub.requests.at(-1)!.body)).toEqual({ event: 'created', data: { sku: 'A1' } });

    hub.onPublish((response) => json(response, 400, { error: { code: 'invalid_event', message: 'reserved name' } }));
    await expect(client.publish('a', 1, { event: 'hub.x' })).rejects.toMatchObject({ name: 'RequestError', status: 400, code: 'invalid_event' });
  });
});

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SseHubClient } from '../../client/src/index.js';
import { TcpProxy } from '../helpers/tcp-proxy';
import { startTestServer, uniquePrefix, type TestServer } from '../helpers/test-server';
import { Collector, consecutive, CLIENT_WAIT } from './client-helpers';
import { eventually } from '../helpers/eventually';
import { publishId } from '../helpers/publish';

async function publishMany(url: string, channels: string[], rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) for (const channel of channels) await publishId(url, channel, { round });
}

describe('@ssehub/client against the real hub', () => {
  let hubs: TestServer[] = [];
  let proxies: TcpProxy[] = [];
  let collectors: Collector[] = [];

  afterEach(async () => {
    await Promise.all(collectors.map((collector) => collector.close()));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all(hubs.map((hub) => hub.close()));
    hubs = [];
    proxies = [];
    collectors = [];
  });

  async function startHub(env: Record<string, string> = {}): Promise<TestServer> {
    const hub = await startTestServer('redis', env);
    hubs.push(hub);
    return hub;
  }

  function collect(collector: Collector): Collector {
    collectors.push(collector);
    return collector;
  }

  it('delivers every event of two channels once, in order, across a restart of the server', async () => {
    const prefix = uniquePrefix();
    const first = await startHub({ REDIS_PREFIX: prefix });
    const client = new SseHubClient({ baseUrl: first.url });
    const received = collect(new Collector(client.subscribe(['a', 'b'], { cursor: 'a=0,b=0', backoff: { initialMs: 20, maxMs: 200 } })));
    await publishMany(first.url, ['a', 'b'], 15);
    await received.waitForEvents('b', 15);

    await first.close();
    hubs = [];
    const second = await startHub({ REDIS_PREFIX: prefix, PORT: String(first.port) });
    await publishMany(second.url, ['a', 'b'], 15);
    await received.waitForEvents('a', 30);
    await received.waitForEvents('b', 30);

    const firstA = received.idsOf('a')[0]!;
    const firstB = received.idsOf('b')[0]!;
    expect(received.idsOf('a')).toEqual(consecutive(firstA, 30));
    expect(received.idsOf('b')).toEqual(consecutive(firstB, 30));
    expect(received.gaps).toEqual([]);
    expect(received.cursors.at(-1)).toBe(`a=${firstA + 29},b=${firstB + 29}`);
  });

  it('delivers every event once after the network is cut mid-stream, publishing on while it is down', async () => {
    const hub = await startHub();
    const proxy = await TcpProxy.start(hub.port);
    proxies.push(proxy);
    const client = new SseHubClient({ baseUrl: proxy.url });
    const received = collect(new Collector(client.subscribe(['x', 'y'], { cursor: 'x=0,y=0', backoff: { initialMs: 20, maxMs: 200 } })));
    await publishMany(hub.url, ['x', 'y'], 10);
    await received.waitForEvents('y', 10);

    proxy.cut();
    await publishMany(hub.url, ['x', 'y'], 10);
    proxy.restore();
    await publishMany(hub.url, ['x', 'y'], 10);
    await received.waitForEvents('x', 30);
    await received.waitForEvents('y', 30);

    expect(received.idsOf('x')).toEqual(consecutive(received.idsOf('x')[0]!, 30));
    expect(received.idsOf('y')).toEqual(consecutive(received.idsOf('y')[0]!, 30));
    expect(received.gaps).toEqual([]);
  });

  it('reconnects through the watchdog when a frozen network path delivers neither events nor heartbeats', async () => {
    const hub = await startHub({ HEARTBEAT_MS: '100' });
    const proxy = await TcpProxy.start(hub.port);
    proxies.push(proxy);
    const client = new SseHubClient({ baseUrl: proxy.url });
    const sub = client.subscribe('frozen', { cursor: 'frozen=0', watchdogMs: 500, backoff: { initialMs: 20, maxMs: 200 } });
    const received = collect(new Collector(sub));
    await publishId(hub.url, 'frozen', 1);
    await received.waitForEvents('frozen', 1);

    proxy.freeze();
    await publishId(hub.url, 'frozen', 2);
    await eventually(() => sub.state === 'reconnecting', 'the watchdog to notice the silence', CLIENT_WAIT);
    proxy.restore();
    await publishId(hub.url, 'frozen', 3);
    await received.waitForEvents('frozen', 3);
    expect(received.idsOf('frozen')).toEqual(consecutive(received.idsOf('frozen')[0]!, 3));
  });

  it('cuts a consumer that fell far behind and, once history was trimmed, yields a gap item then the retained events', async () => {
    const hub = await startHub({ HISTORY_SIZE: '10' });
    const client = new SseHubClient({ baseUrl: hub.url });
    const sub = client.subscribe('slow', { cursor: 'slow=0', maxPauseMs: 200 });
    const ids: number[] = [];
    for (let n = 0; n < 3; n++) ids.push(Number(await publishId(hub.url, 'slow', n)));
    for (let n = 0; n < 3; n++) {
      const result = await sub.next();
      expect(result.value).toMatchObject({ kind: 'event', id: String(ids[n]) });
    }
    // The consumer stops asking: the client lets go of the stream instead of buffering.
    await eventually(() => hub.hub.clientCount === 0, 'the paused subscription to release its stream', CLIENT_WAIT);
    for (let n = 3; n < 33; n++) ids.push(Number(await publishId(hub.url, 'slow', n)));

    const rest = [];
    for (let n = 0; n < 11; n++) rest.push((await sub.next()).value);
    sub.close();
    expect(rest[0]).toEqual({ kind: 'gap', channel: 'slow', lastEventId: String(ids[2]), firstAvailableId: String(ids[23]) });
    expect(rest.slice(1).map((item) => (item as { id: string }).id)).toEqual(ids.slice(23).map(String));
    expect(sub.cursor).toBe(`slow=${ids[32]}`);
  });

  it('stores a publish once when its response was lost and the client retried with the same Idempotency-Key', async () => {
    const hub = await startHub();
    const dropper = await responseDroppingProxy(hub.url);
    try {
      const client = new SseHubClient({ baseUrl: dropper.url });
      const result = await client.publish('once', { sku: 'A1' }, { event: 'created' });
      expect(dropper.dropped).toBe(1);
      expect(result).toMatchObject({ channel: 'once', event: 'created', duplicate: true });
      const history = (await (await fetch(`${hub.url}/channels/once/events`)).json()) as { events: Array<{ id: string }> };
      expect(history.events.map((event) => event.id)).toEqual([result.id]);
    } finally {
      dropper.server.close();
      dropper.server.closeAllConnections();
    }
  });
});

/**
 * An HTTP proxy that forwards each request to `target`, but for the first POST lets the hub
 * answer and then drops the connection instead of passing the answer on.
 */
async function responseDroppingProxy(target: string): Promise<{ url: string; server: Server; dropped: number }> {
  const state = { url: '', server: createServer(), dropped: 0 };
  state.server.on('request', (request: IncomingMessage, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'host' && entry[0] !== 'connection'),
      );
      const upstream = await fetch(`${target}${request.url ?? '/'}`, {
        method: request.method,
        headers,
        body: request.method === 'POST' ? Buffer.concat(chunks) : undefined,
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      if (request.method === 'POST' && state.dropped === 0) {
        state.dropped++;
        request.socket.destroy();
        return;
      }
      response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      response.end(body);
    })();
  });
  state.server.listen(0, '127.0.0.1');
  await once(state.server, 'listening');
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

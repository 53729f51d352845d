import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import request from 'supertest';
import { OpenStreams, SseClient, type SseMessage } from '../helpers/sse-client';
import { publishId } from '../helpers/publish';
import { BROKERS, startTestServer, type TestServer } from '../helpers/test-server';

interface Envelope {
  channel: string;
  id: string;
  data: unknown;
}

function envelope(message: SseMessage | undefined): Envelope {
  return JSON.parse(message?.data ?? 'null') as Envelope;
}

/** The events of a multi-channel stream (gap notices and other id-less frames left out). */
function events(client: SseClient): SseMessage[] {
  return client.messages.filter((message) => message.id !== undefined);
}

let namespace = 0;
/** Channel names no other test of the run uses (both brokers share one Redis, with prefixes). */
function channels(...names: string[]): string[] {
  namespace++;
  return names.map((name) => `${name}${namespace}`);
}

describe.each(BROKERS)('GET /streams on the %s broker', (broker) => {
  let server: TestServer;
  const streams = new OpenStreams();
  const open = (path: string, headers?: Record<string, string>): Promise<SseClient> => streams.open(server.url + path, headers);

  beforeAll(async () => {
    server = await startTestServer(broker, { HISTORY_SIZE: '5', MAX_STREAM_CHANNELS: '3' });
  });
  afterEach(() => {
    streams.closeAll();
  });
  afterAll(async () => {
    await server.close();
  });

  it('opens with the SSE headers, a retry line and the cursor of every channel as an id-only block', async () => {
    const [a, b] = channels('a', 'b') as [string, string];
    const newestA = await publishId(server, a, 'before');
    const client = await open(`/streams?channel=${b}&channel=${a}`);
    expect(client.response?.statusCode).toBe(200);
    expect(client.response?.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(client.response?.headers['x-accel-buffering']).toBe('no');
    await client.waitFor((c) => c.lastEventId !== undefined, 5000, 'the opening position');
    // Names in ascending byte order; a channel without events is at 0; nothing is dispatched.
    expect(client.lastEventId).toBe(`${a}=${newestA},${b}=0`);
    expect(client.retries).toEqual([2000]);
    expect(client.messages).toEqual([]);
  });

  it('sends each event with its own name, the envelope as data and the stream cursor as id, exact after every event', async () => {
    const [a, b] = channels('a', 'b') as [string, string];
    const client = await open(`/streams?channel=${a}&channel=${b}`);
    // No order is promised between channels (events of one loop turn go out channel by channel):
    // each event is awaited before the next is published, so the expected cursors are exact.
    const a1 = await publishId(server, a, { sku: 'A1' }, { event: 'created' });
    await client.waitForMessages(1);
    const b1 = await publishId(server, b, 'x');
    await client.waitForMessages(2);
    const a2 = await publishId(server, a, null);
    await client.waitForMessages(3);
    expect(client.messages).toEqual([
      { id: `${a}=${a1},${b}=0`, event: 'created', data: `{"channel":"${a}","id":"${a1}","data":{"sku":"A1"}}` },
      { id: `${a}=${a1},${b}=${b1}`, event: 'message', data: `{"channel":"${b}","id":"${b1}","data":"x"}` },
      { id: `${a}=${a2},${b}=${b1}`, event: 'message', data: `{"channel":"${a}","id":"${a2}","data":null}` },
    ]);
  });

  it('gives streams on the same channels the same bytes, and streams on other channel sets their own cursor', async () => {
    const [a, b, c] = channels('a', 'b', 'c') as [string, string, string];
    const one = await open(`/streams?channel=${a}&channel=${b}`);
    const two = await open(`/streams?channel=${b}&channel=${a}`);
    const three = await open(`/streams?channel=${a}&channel=${c}`);
    const id = await publishId(server, a, 1);
    await Promise.all([one.waitForMessages(1), two.waitForMessages(1), three.waitForMessages(1)]);
    expect(one.messages).toEqual(two.messages);
    expect(one.messages[0]?.id).toBe(`${a}=${id},${b}=0`);
    expect(three.messages[0]?.id).toBe(`${a}=${id},${c}=0`);
  });

  it('counts a channel named twice once', async () => {
    const [a] = channels('a') as [string];
    const client = await open(`/streams?channel=${a}&channel=${a}`);
    const id = await publishId(server, a, 1);
    await client.waitForMessages(1);
    expect(client.messages[0]?.id).toBe(`${a}=${id}`);
  });

  it('resumes every channel from its cursor entry, with replay before live and no gap or duplicate', async () => {
    const [a, b] = channels('a', 'b') as [string, string];
    const a1 = await publishId(server, a, 'a1');
    const a2 = await publishId(server, a, 'a2');
    const b1 = await publishId(server, b, 'b1');
    const b2 = await publishId(server, b, 'b2');
    const client = await open(`/streams?channel=${a}&channel=${b}`, { 'Last-Event-ID': `${b}=${b1},${a}=${a1}` });
    await client.waitForMessages(2);
    const a3 = await publishId(server, a, 'a3');
    await client.waitForMessages(3);
    const byChannel = (name: string): string[] => events(client).map(envelope).filter((item) => item.channel === name).map((item) => item.id);
    expect(byChannel(a)).toEqual([a2, a3]);
    expect(byChannel(b)).toEqual([b2]);
    expect(client.lastEventId).toBe(`${a}=${a3},${b}=${b2}`);
  });

  it('replays all of a channel whose entry is 0 and starts a channel without an entry live; ignores entries of other channels', async () => {
    const [a, b, other] = channels('a', 'b', 'other') as [string, string, string];
    const a1 = await publishId(server, a, 'a1');
    const b1 = await publishId(server, b, 'b1');
    const client = await open(`/streams?channel=${a}&channel=${b}&lastEventId=${a}=0,${other}=5`);
    await client.waitForMessages(1);
    const b2 = await publishId(server, b, 'b2');
    await client.waitForMessages(2);
    expect(events(client).map(envelope).map((item) => item.id)).toEqual([a1, b2]);
    expect(client.lastEventId).toBe(`${a}=${a1},${b}=${b2}`);
    expect(client.messages.some((message) => message.event === 'hub.gap')).toBe(false);
    expect(b1).not.toBe(b2);
  });

  it('takes the Last-Event-ID header over the query parameter, and an empty one as absent', async () => {
    const [a] = channels('a') as [string];
    const a1 = await publishId(server, a, 1);
    const a2 = await publishId(server, a, 2);
    const headerWins = await open(`/streams?channel=${a}&lastEventId=${a}=0`, { 'Last-Event-ID': `${a}=${a1}` });
    await headerWins.waitForMessages(1);
    expect(events(headerWins).map((message) => envelope(message).id)).toEqual([a2]);
    const emptyHeader = await open(`/streams?channel=${a}&lastEventId=${a}=0`, { 'Last-Event-ID': '' });
    await emptyHeader.waitForMessages(2);
    expect(events(emptyHeader).map((message) => envelope(message).id)).toEqual([a1, a2]);
    const emptyQuery = await open(`/streams?channel=${a}&lastEventId=`);
    await emptyQuery.waitFor((c) => c.lastEventId !== undefined);
    expect(emptyQuery.lastEventId).toBe(`${a}=${a2}`);
  });

  it('sends hub.gap with the channel for a resume point older than the history, leaving the other channels untouched', async () => {
    const [a, b] = channels('a', 'b') as [string, string];
    const aIds: string[] = [];
    for (let n = 0; n < 8; n++) aIds.push(await publishId(server, a, n));
    const b1 = await publishId(server, b, 'b1');
    const b2 = await publishId(server, b, 'b2');
    const client = await open(`/streams?channel=${a}&channel=${b}`, { 'Last-Event-ID': `${a}=${aIds[0]},${b}=${b1}` });
    await client.waitForMessages(7);
    const gap = client.messages.find((message) => message.event === 'hub.gap');
    expect(gap?.id).toBeUndefined();
    expect(JSON.parse(gap?.data ?? 'null')).toEqual({ channel: a, lastEventId: aIds[0], firstAvailableId: aIds[3] });
    const aEvents = events(client).map(envelope).filter((item) => item.channel === a);
    expect(aEvents.map((item) => item.id)).toEqual(aIds.slice(3));
    expect(events(client).map(envelope).filter((item) => item.channel === b).map((item) => item.id)).toEqual([b2]);
    // The gap notice comes before the channel's retained events.
    expect(client.messages.indexOf(gap as SseMessage)).toBeLessThan(client.messages.findIndex((message) => message.id !== undefined && envelope(message).channel === a));
  });

  it('sends hub.gap with a null firstAvailableId for a resume point on a channel that has no events', async () => {
    const [a, b] = channels('a', 'b') as [string, string];
    const client = await open(`/streams?channel=${a}&channel=${b}&lastEventId=${a}=42`);
    await client.waitForMessages(1);
    expect(client.messages[0]).toEqual({ id: undefined, event: 'hub.gap', data: `{"channel":"${a}","lastEventId":"42","firstAvailableId":null}` });
  });

  it.each([
    ['no channel', '/streams', 'invalid_channel'],
    ['an empty channel', '/streams?channel=', 'invalid_channel'],
    ['an invalid channel name', '/streams?channel=ok&channel=bad%20name', 'invalid_channel'],
    ['more channels than MAX_STREAM_CHANNELS', '/streams?channel=a&channel=b&channel=c&channel=d', 'too_many_channels'],
    ['a cursor entry without =', '/streams?channel=a&lastEventId=a', 'invalid_last_event_id'],
    ['a plain id as cursor', '/streams?channel=a&lastEventId=5', 'invalid_last_event_id'],
    ['a cursor with a non-numeric position', '/streams?channel=a&lastEventId=a%3Dx', 'invalid_last_event_id'],
    ['a cursor with an empty position', '/streams?channel=a&lastEventId=a%3D', 'invalid_last_event_id'],
    ['a cursor naming a channel twice', '/streams?channel=a&lastEventId=a%3D1%2Ca%3D2', 'invalid_last_event_id'],
    ['a cursor with an empty entry', '/streams?channel=a&lastEventId=a%3D1%2C%2Cb%3D2', 'invalid_last_event_id'],
    ['a cursor with an invalid name', '/streams?channel=a&lastEventId=-a%3D1', 'invalid_last_event_id'],
    ['a cursor position of 17 digits', '/streams?channel=a&lastEventId=a%3D12345678901234567', 'invalid_last_event_id'],
    ['a negative cursor position', '/streams?channel=a&lastEventId=a%3D-1', 'invalid_last_event_id'],
    ['lastEventId given twice', '/streams?channel=a&lastEventId=a%3D1&lastEventId=a%3D2', 'invalid_last_event_id'],
  ])('answers %s with 400 and a JSON error, leaving other streams served', async (_what, path, code) => {
    const [a] = channels('a') as [string];
    const bystander = await open(`/streams?channel=${a}`);
    const response = await request(server.url).get(path).expect(400);
    expect(response.body).toEqual({ error: { code, message: expect.any(String) as string } });
    const id = await publishId(server, a, 'still served');
    await bystander.waitForMessages(1);
    expect(bystander.messages[0]?.id).toBe(`${a}=${id}`);
  });

  it('answers an invalid cursor in the Last-Event-ID header with 400 invalid_last_event_id', async () => {
    const response = await request(server.url).get('/streams?channel=a').set('Last-Event-ID', 'a=1,a=2').expect(400);
    expect((response.body as { error: { code: string } }).error.code).toBe('invalid_last_event_id');
  });
});

describe.each(BROKERS)('one stream, one client, on the %s broker', (broker) => {
  it('counts a multi-channel stream as one client for MAX_CLIENTS', async () => {
    const server = await startTestServer(broker, { MAX_CLIENTS: '1' });
    const first = await SseClient.open(`${server.url}/streams?channel=x&channel=y&channel=z`);
    try {
      await first.waitFor((c) => c.lastEventId !== undefined);
      expect(server.hub.clientCount).toBe(1);
      const refused = await SseClient.open(`${server.url}/streams?channel=x`);
      await refused.waitForEnd();
      expect(refused.messages).toEqual([]);
      expect(refused.lastEventId).toBeUndefined();
      expect(refused.retries).toHaveLength(1);
    } finally {
      first.close();
      await server.close();
    }
  });

  it('drops a multi-channel stream whose unsent data passes CLIENT_BUFFER_BYTES, and forgets its channels', async () => {
    const server = await startTestServer(broker, { CLIENT_BUFFER_BYTES: String(64 * 1024), HISTORY_SIZE: '10' });
    // A raw socket that asks for the stream and never reads a byte.
    const stalled: Socket = connect(server.port, '127.0.0.1');
    await once(stalled, 'connect');
    stalled.pause();
    stalled.on('error', () => undefined);
    stalled.write('GET /streams?channel=p&channel=q HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const reader = await SseClient.open(`${server.url}/streams?channel=p&channel=q`, {}, { keepData: false });
    try {
      while (server.hub.clientCount < 2) await new Promise((resolve) => setImmediate(resolve));
      const payload = 'x'.repeat(30_000);
      let published = 0;
      // The stalled socket never reads, so it cannot see its own end: watch the server's count.
      while (server.hub.clientCount === 2 && published < 2000) {
        await publishId(server, published % 2 === 0 ? 'p' : 'q', payload);
        published++;
      }
      expect(server.hub.clientCount).toBe(1);
      expect((await request(server.url).get('/metrics')).text).toMatch(/^ssehub_clients_dropped_slow_total 1$/m);
      await reader.waitForMessages(published);
      reader.close();
      await reader.waitForEnd();
      while (server.hub.channelCount > 0) await new Promise((resolve) => setImmediate(resolve));
    } finally {
      reader.close();
      stalled.destroy();
      await server.close();
    }
  });
});

describe.each(BROKERS)('the opening position on the %s broker', (broker) => {
  it('lets a live-only stream that drops before its first event resume without losing what was published meanwhile', async () => {
    const server = await startTestServer(broker);
    try {
      const before = await publishId(server, 'drop', 'before');
      const first = await SseClient.open(`${server.url}/channels/drop/stream`);
      await first.waitFor((c) => c.lastEventId !== undefined);
      expect(first.lastEventId).toBe(before);
      first.close();
      const during = [await publishId(server, 'drop', 'during 1'), await publishId(server, 'drop', 'during 2')];
      // What a browser does: reconnect with the last id it kept, here the opening position.
      const again = await SseClient.open(`${server.url}/channels/drop/stream`, { 'Last-Event-ID': first.lastEventId ?? '' });
      await again.waitForMessages(2);
      expect(again.ids.map(String)).toEqual(during);
      again.close();
    } finally {
      await server.close();
    }
  });

  it('opens at 0 on a channel with no events, which resumes from its beginning', async () => {
    const server = await startTestServer(broker);
    try {
      const first = await SseClient.open(`${server.url}/channels/empty-start/stream`);
      await first.waitFor((c) => c.lastEventId !== undefined);
      expect(first.lastEventId).toBe('0');
      first.close();
      const id = await publishId(server, 'empty-start', 1);
      const again = await SseClient.open(`${server.url}/channels/empty-start/stream`, { 'Last-Event-ID': '0' });
      await again.waitForMessages(1);
      expect(again.ids.map(String)).toEqual([id]);
      expect(again.messages.some((message) => message.event === 'hub.gap')).toBe(false);
      again.close();
    } finally {
      await server.close();
    }
  });

  it('opens a resuming stream at its resume point', async () => {
    const server = await startTestServer(broker);
    try {
      const id = await publishId(server, 'resume-start', 1);
      const client = await SseClient.open(`${server.url}/channels/resume-start/stream?lastEventId=${id}`);
      await client.waitFor((c) => c.lastEventId !== undefined);
      expect(client.lastEventId).toBe(id);
      client.close();
    } finally {
      await server.close();
    }
  });
});

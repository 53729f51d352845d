import { OpenStreams, SseClient } from '../helpers/sse-client';
import { publishId } from '../helpers/publish';
import { BROKERS, startTestServer, type TestServer } from '../helpers/test-server';

describe.each(BROKERS)('streaming on the %s broker', (broker) => {
  let server: TestServer;
  const streams = new OpenStreams();
  const open = (path: string, headers?: Record<string, string>): Promise<SseClient> => streams.open(server.url + path, headers);

  beforeAll(async () => {
    server = await startTestServer(broker);
  });
  afterEach(() => {
    streams.closeAll();
  });
  afterAll(async () => {
    await server.close();
  });

  it('opens with the SSE headers and a retry line, then delivers live events with ids', async () => {
    const client = await open('/channels/live/stream');
    expect(client.response?.statusCode).toBe(200);
    expect(client.response?.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(client.response?.headers['cache-control']).toMatch(/no-cache/);
    expect(client.response?.headers['x-accel-buffering']).toBe('no');
    const first = await publishId(server, 'live', { n: 1 });
    const second = await publishId(server, 'live', 'two', { event: 'custom' });
    await client.waitForMessages(2);
    expect(client.retries).toEqual([2000]);
    expect(client.messages).toEqual([
      { id: first, event: 'message', data: '{"n":1}' },
      { id: second, event: 'custom', data: '"two"' },
    ]);
    expect(Number(second)).toBe(Number(first) + 1);
  });

  it('replays events after Last-Event-ID, then continues live without gaps or duplicates', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push(await publishId(server, 'resume', n));
    const client = await open('/channels/resume/stream', { 'Last-Event-ID': ids[1]! });
    await client.waitForMessages(3);
    ids.push(await publishId(server, 'resume', 5));
    await client.waitForMessages(4);
    expect(client.messages.map((message) => message.id)).toEqual(ids.slice(2));
    expect(client.messages.map((message) => message.data)).toEqual(['2', '3', '4', '5']);
  });

  it('takes the lastEventId query parameter when the header is absent, and the header wins', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push(await publishId(server, 'query', n));
    const byQuery = await open(`/channels/query/stream?lastEventId=${ids[0]}`);
    await byQuery.waitForMessages(2);
    expect(byQuery.ids).toEqual([Number(ids[1]), Number(ids[2])]);
    const headerWins = await open(`/channels/query/stream?lastEventId=${ids[0]}`, { 'Last-Event-ID': ids[1]! });
    await headerWins.waitForMessages(1);
    expect(headerWins.ids).toEqual([Number(ids[2])]);
  });

  it('sends every retained event without a gap notice for resume point 0', async () => {
    const ids = [await publishId(server, 'zero', 'a'), await publishId(server, 'zero', 'b')];
    const client = await open('/channels/zero/stream', { 'Last-Event-ID': '0' });
    await client.waitForMessages(2);
    expect(client.messages.map((message) => message.id)).toEqual(ids);
  });

  it('announces hub.gap before the retained events when the resume point is newer than the newest id', async () => {
    const id = await publishId(server, 'ahead', 'only');
    const client = await open('/channels/ahead/stream', { 'Last-Event-ID': String(Number(id) + 10) });
    await client.waitForMessages(2);
    expect(client.messages[0]).toEqual({
      id: undefined,
      event: 'hub.gap',
      data: JSON.stringify({ lastEventId: String(Number(id) + 10), firstAvailableId: id }),
    });
    expect(client.messages[1]?.id).toBe(id);
  });

  it('announces hub.gap with a null firstAvailableId on a channel that has no events', async () => {
    const client = await open('/channels/empty-gap/stream', { 'Last-Event-ID': '42' });
    await client.waitForMessages(1);
    expect(client.messages[0]).toEqual({
      id: undefined,
      event: 'hub.gap',
      data: '{"lastEventId":"42","firstAvailableId":null}',
    });
  });

  it('serves GET /stream as the chat channel', async () => {
    const client = await open('/stream');
    const id = await publishId(server, 'chat', { text: 'hi' });
    await client.waitForMessages(1);
    expect(client.messages[0]?.id).toBe(id);
  });
});

describe.each(BROKERS)('resuming at the edge of a short history on the %s broker', (broker) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(broker, { HISTORY_SIZE: '3' });
  });
  afterAll(async () => {
    await server.close();
  });

  async function resume(channel: string, lastEventId: string): Promise<SseClient> {
    const client = await SseClient.open(`${server.url}/channels/${channel}/stream`, { 'Last-Event-ID': lastEventId });
    return client;
  }

  it('announces hub.gap with the first available id, then every retained event, when the resume point fell out of history', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) ids.push(await publishId(server, 'trimmed', n));
    const client = await resume('trimmed', ids[1]!);
    try {
      await client.waitForMessages(4);
      expect(client.messages[0]).toEqual({
        id: undefined,
        event: 'hub.gap',
        data: JSON.stringify({ lastEventId: ids[1], firstAvailableId: ids[3] }),
      });
      expect(client.messages.slice(1).map((message) => message.id)).toEqual(ids.slice(3));
    } finally {
      client.close();
    }
  });

  it('resumes without a gap notice from just before the oldest retained event', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push(await publishId(server, 'edge', n));
    const client = await resume('edge', ids[1]!);
    try {
      await client.waitForMessages(3);
      expect(client.messages.map((message) => message.id)).toEqual(ids.slice(2));
      expect(client.messages.some((message) => message.event === 'hub.gap')).toBe(false);
    } finally {
      client.close();
    }
  });
});

import request from 'supertest';
import { SseClient } from '../helpers/sse-client';
import { BROKERS, startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

interface HistoryAnswer {
  events: Array<{ id: string; data: string }>;
  more: boolean;
}

const PAGE_BYTES = 1_048_576;
const EVENT_DATA_CHARS = 60 * 1024;

describe.each(BROKERS)('history answers bounded by HISTORY_PAGE_BYTES (%s broker)', (broker) => {
  let server: Server;
  let ids: string[];

  beforeAll(async () => {
    server = await startTestServer(broker);
    ids = [];
    // 40 events of 60 KB: 2.4 MB of history, more than two default pages.
    for (let n = 0; n < 40; n++) {
      const data = `${String(n).padStart(2, '0')}${'x'.repeat(EVENT_DATA_CHARS - 2)}`;
      const response = await request(server.url).post('/channels/large/events').send({ data }).expect(201);
      ids.push((response.body as { id: string }).id);
    }
  });
  afterAll(() => server.close());

  const read = async (query: string): Promise<{ answer: HistoryAnswer; bytes: number }> => {
    const response = await request(server.url).get(`/channels/large/events?${query}`).expect(200);
    return { answer: response.body as HistoryAnswer, bytes: Buffer.byteLength(response.text) };
  };

  it('answers the newest events in at most ~1 MB, with more: true when older ones were left out', async () => {
    const { answer, bytes } = await read('limit=1000');
    expect(bytes).toBeLessThanOrEqual(PAGE_BYTES + 1024);
    expect(answer.more).toBe(true);
    expect(answer.events.length).toBeGreaterThan(0);
    expect(answer.events.map((event) => event.id)).toEqual(ids.slice(ids.length - answer.events.length));
  });

  it('answers the oldest events after an id in at most ~1 MB with more: true, and reading on with after= gets them all', async () => {
    const got: string[] = [];
    let after = '0';
    for (;;) {
      const { answer, bytes } = await read(`after=${after}&limit=1000`);
      expect(bytes).toBeLessThanOrEqual(PAGE_BYTES + 1024);
      expect(answer.events.length).toBeGreaterThan(0);
      got.push(...answer.events.map((event) => event.id));
      if (!answer.more) break;
      after = answer.events[answer.events.length - 1]!.id;
    }
    expect(got).toEqual(ids);
  });

  it('replays all 40 events in order to a stream resuming before them (Last-Event-ID), then goes live', async () => {
    const client = await SseClient.open(`${server.url}/channels/large/stream`, { 'Last-Event-ID': String(Number(ids[0]) - 1) });
    try {
      await client.waitForMessages(40);
      const live = await request(server.url).post('/channels/large/events').send({ data: 'live' }).expect(201);
      await client.waitForMessages(41);
      expect(client.messages.map((message) => message.id)).toEqual([...ids, (live.body as { id: string }).id]);
      expect(client.messages.slice(0, 40).map((message) => message.data.slice(1, 3))).toEqual(ids.map((_, n) => String(n).padStart(2, '0')));
      expect(client.messages.some((message) => message.event === 'hub.gap')).toBe(false);
    } finally {
      client.close();
    }
  });
});

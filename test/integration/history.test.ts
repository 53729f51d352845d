import request from 'supertest';
import { BROKERS, startTestServer } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

interface HistoryItem {
  id: string;
  event: string;
  data: unknown;
}

describe.each(BROKERS)('history on the %s broker', (broker) => {
  let server: Server;
  let seeded: string[];

  beforeAll(async () => {
    server = await startTestServer(broker);
    // 1005 events published in order: enough to see the default page (100) and the largest (1000).
    seeded = [];
    for (let n = 0; n < 1005; n++) {
      const result = await server.broker.publish({ channel: 'many', event: n % 2 === 0 ? 'even' : 'odd', dataJson: JSON.stringify({ n }) });
      seeded.push(String(result.id));
    }
  });
  afterAll(async () => {
    await server.close();
  });

  const events = async (path: string): Promise<HistoryItem[]> => {
    const response = await request(server.url).get(path).expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    return (response.body as { events: HistoryItem[] }).events;
  };

  it('lists {id, event, data} items, oldest first', async () => {
    const published: string[] = [];
    for (const [event, data] of [['a', { x: 1 }], ['b', null], ['message', 'three']] as const) {
      const response = await request(server.url).post('/channels/items/events').send({ event, data }).expect(201);
      published.push((response.body as { id: string }).id);
    }
    const response = await request(server.url).get('/channels/items/events').expect(200);
    expect(response.body).toEqual({
      events: [
        { id: published[0], event: 'a', data: { x: 1 } },
        { id: published[1], event: 'b', data: null },
        { id: published[2], event: 'message', data: 'three' },
      ],
      more: false,
    });
  });

  it('answers an empty list for a channel that has no events', async () => {
    const response = await request(server.url).get('/channels/nothing-here/events').expect(200);
    expect(response.body).toEqual({ events: [], more: false });
  });

  it('returns the newest 100 events by default', async () => {
    const items = await events('/channels/many/events');
    expect(items.map((item) => item.id)).toEqual(seeded.slice(-100));
    expect(items[0]).toEqual({ id: seeded[905], event: 'odd', data: { n: 905 } });
  });

  it('returns the newest limit events without after', async () => {
    expect((await events('/channels/many/events?limit=1')).map((item) => item.id)).toEqual(seeded.slice(-1));
    expect((await events('/channels/many/events?limit=1000')).map((item) => item.id)).toEqual(seeded.slice(-1000));
  });

  it('returns up to limit events with ids greater than after', async () => {
    expect((await events(`/channels/many/events?after=${seeded[10]}&limit=3`)).map((item) => item.id)).toEqual(seeded.slice(11, 14));
    expect((await events(`/channels/many/events?after=${seeded[1000]}`)).map((item) => item.id)).toEqual(seeded.slice(1001));
    expect((await events(`/channels/many/events?after=${seeded[1004]}`))).toEqual([]);
    expect((await events(`/channels/many/events?after=${Number(seeded[1004]) + 100}`))).toEqual([]);
  });

  it('answers more: true when older events were left out (no after) or newer ones remain (after)', async () => {
    const more = async (query: string): Promise<unknown> =>
      ((await request(server.url).get(`/channels/many/events?${query}`).expect(200)).body as { more: unknown }).more;
    expect(await more('limit=10')).toBe(true);
    expect(await more('limit=1000')).toBe(false);
    expect(await more(`after=${seeded[10]}&limit=3`)).toBe(true);
    expect(await more(`after=${seeded[1000]}`)).toBe(false);
    expect(await more(`after=${seeded[1004]}`)).toBe(false);
  });

  it('defaults limit to 100 with after too', async () => {
    expect((await events(`/channels/many/events?after=${seeded[5]}`)).map((item) => item.id)).toEqual(seeded.slice(6, 106));
  });

  it('reads from the oldest retained event for after=0 (HISTORY_SIZE keeps the newest 1000)', async () => {
    expect((await events('/channels/many/events?after=0&limit=5')).map((item) => item.id)).toEqual(seeded.slice(5, 10));
  });

  it('treats an empty after as absent', async () => {
    expect((await events('/channels/many/events?after=&limit=2')).map((item) => item.id)).toEqual(seeded.slice(-2));
  });

  it.each([
    'limit=0',
    'limit=1001',
    'limit=-1',
    'limit=1.5',
    'limit=abc',
    'limit=',
    'limit=1e2',
    'limit=%2010',
    'limit=10&limit=20',
    'after=-1',
    'after=1.5',
    'after=abc',
    'after=12345678901234567',
    'after=1e3',
    'after=%201',
    'after=1&after=2',
  ])('answers 400 invalid_query for %s', async (query) => {
    const response = await request(server.url).get(`/channels/many/events?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { code: 'invalid_query', message: expect.any(String) as string } });
  });

  it('answers 400 invalid_channel for a bad channel name', async () => {
    const response = await request(server.url).get(`/channels/${encodeURIComponent('bad channel')}/events`);
    expect(response.status).toBe(400);
    expect((response.body as { error: { code: string } }).error.code).toBe('invalid_channel');
  });
});

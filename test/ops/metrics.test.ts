import request from 'supertest';
import { OpenStreams, type SseClient } from '../helpers/sse-client';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { pollUntil } from './redis-topology';

/** The value of an unlabelled sample `name` in Prometheus text; NaN when absent. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
}

async function scrape(server: TestServer): Promise<string> {
  const response = await request(server.url).get('/metrics').expect(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain/);
  return response.text;
}

describe('probes and Prometheus metrics after real traffic', () => {
  let server: TestServer;
  const streams = new OpenStreams();
  const open = (path: string, headers?: Record<string, string>): Promise<SseClient> => streams.open(server.url + path, headers);

  beforeAll(async () => {
    server = await startTestServer('redis', { MAX_CLIENTS: '1' });
  });
  afterAll(async () => {
    streams.closeAll();
    await server.close();
  });

  it('answers /healthz and /readyz with 200 while Redis is up', async () => {
    await request(server.url).get('/healthz').expect(200);
    await request(server.url).get('/readyz').expect(200);
  });

  it('counts publishes, live deliveries, replays, refused clients and open streams, with process metrics beside them', async () => {
    const live = await open('/channels/metered/stream');
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) {
      const response = await request(server.url).post('/channels/metered/events').send({ data: n }).expect(201);
      ids.push((response.body as { id: string }).id);
    }
    await live.waitForMessages(3);
    expect(sample(await scrape(server), 'ssehub_clients_connected')).toBe(1);

    // MAX_CLIENTS=1: the next stream is told to come back later and ended.
    const refused = await open('/channels/metered/stream');
    await refused.waitForEnd();
    expect(refused.response?.statusCode).toBe(200);
    expect(refused.messages).toEqual([]);
    expect(refused.retries[0]).toBeGreaterThanOrEqual(5 * 2000);
    expect(refused.retries[0]).toBeLessThanOrEqual(15 * 2000);

    live.close();
    await pollUntil(async () => sample(await scrape(server), 'ssehub_clients_connected') === 0, 'the closed stream to be counted out', 5000, 20);
    const resumed = await open('/channels/metered/stream', { 'Last-Event-ID': ids[0]! });
    await resumed.waitForMessages(2);
    expect(resumed.ids.map(String)).toEqual(ids.slice(1));

    const text = await scrape(server);
    expect(sample(text, 'ssehub_clients_connected')).toBe(1);
    expect(sample(text, 'ssehub_events_published_total')).toBe(3);
    expect(sample(text, 'ssehub_events_delivered_total')).toBe(3);
    expect(sample(text, 'ssehub_events_replayed_total')).toBe(2);
    expect(sample(text, 'ssehub_clients_refused_total')).toBe(1);
    expect(sample(text, 'ssehub_clients_dropped_slow_total')).toBe(0);
    expect(sample(text, 'ssehub_gaps_repaired_total')).toBe(0);
    expect(sample(text, 'ssehub_publish_duration_seconds_count')).toBe(3);
    expect(sample(text, 'ssehub_delivery_latency_seconds_count')).toBe(3);
    expect(sample(text, 'ssehub_publish_duration_seconds_sum')).toBeGreaterThan(0);
    expect(text).toMatch(/^# TYPE ssehub_clients_connected gauge$/m);
    expect(text).toMatch(/^# TYPE ssehub_events_published_total counter$/m);
    expect(text).toMatch(/^# TYPE ssehub_broker_reconnects_total counter$/m);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});

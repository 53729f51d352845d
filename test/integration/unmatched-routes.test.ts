import request from 'supertest';
import { startTestServer, type TestServer } from '../helpers/test-server';

describe('requests no route matches', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('memory');
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers an unknown path with 404 and the JSON error body', async () => {
    const response = await request(server.url).get('/no/such/route').expect(404);
    expect((response.body as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('answers a known path with the wrong method with 405, Allow and the JSON error body', async () => {
    const response = await request(server.url).put('/channels/x/events').expect(405);
    expect((response.body as { error: { code: string } }).error.code).toBe('method_not_allowed');
    expect(response.headers.allow).toMatch(/POST/);
  });

  it('refuses an explicit null event name instead of taking the default', async () => {
    const response = await request(server.url).post('/channels/x/events').send({ event: null, data: 1 }).expect(400);
    expect((response.body as { error: { code: string } }).error.code).toBe('invalid_event');
  });
});

describe('published data', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('redis');
  });
  afterAll(async () => {
    await server.close();
  });

  it('reaches history exactly as sent, 64-bit integers included, on one line', async () => {
    await request(server.url)
      .post('/channels/exact/events')
      .set('Content-Type', 'application/json')
      .send('{\n  "data": { "id": 18446744073709551615,\n "note": "two  spaces" }\n}')
      .expect(201);
    const history = await request(server.url).get('/channels/exact/events').expect(200);
    expect(history.text).toContain('"data":{"id":18446744073709551615,"note":"two  spaces"}');
  });
});

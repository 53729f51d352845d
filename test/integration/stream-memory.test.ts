import Koa from 'koa';
import request from 'supertest';
import { retainedBytes } from '../helpers/gc';
import { SseClient } from '../helpers/sse-client';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { eventually } from '../helpers/eventually';

describe('an open stream', () => {
  let server: TestServer;
  // Every Koa context the server creates, held weakly: a test can ask whether one was collected.
  const contexts: Array<WeakRef<Koa.Context>> = [];
  const createContext = Koa.prototype.createContext;

  beforeAll(async () => {
    Koa.prototype.createContext = function recordContext(this: Koa, req, res) {
      const ctx = createContext.call(this, req, res);
      contexts.push(new WeakRef(ctx));
      return ctx;
    } as typeof createContext;
    server = await startTestServer('memory');
  });
  afterAll(async () => {
    Koa.prototype.createContext = createContext;
    await server.close();
  });

  it.each(['/channels/memory-direct/stream', '/streams?channel=memory-direct&channel=memory-other'])('opens %s without a Koa context at all (the request listener serves it)', async (path) => {
    const before = contexts.length;
    const client = await SseClient.open(`${server.url}${path}`);
    await client.waitFor((c) => c.lastEventId !== undefined, 5000, 'the start position');
    expect(contexts.length).toBe(before);
    client.close();
    await eventually(() => server.hub.clientCount === 0, 'the hub to drop the client');
  });

  it('keeps no Koa context alive once a stream served through Koa is open, and it still receives events and ends when the client leaves', async () => {
    const before = contexts.length;
    // Upper case: the router ignores it, the request listener does not, so Koa serves this one.
    const client = await SseClient.open(`${server.url}/STREAMS?channel=memory-held`);
    await client.waitFor((c) => c.lastEventId !== undefined, 5000, 'the start position');
    expect(contexts.length).toBe(before + 1);
    const streamContext = contexts[contexts.length - 1];
    expect(streamContext).toBeDefined();
    retainedBytes(); // a full garbage collection
    expect(streamContext?.deref()).toBeUndefined();

    await request(server.url).post('/channels/memory-held/events').send({ data: 'after release' }).expect(201);
    await client.waitForMessages(1);
    expect((JSON.parse(client.messages[0]?.data ?? 'null') as { data: unknown }).data).toBe('after release');

    client.close();
    await eventually(() => server.hub.clientCount === 0, 'the hub to drop the client');
  });
});

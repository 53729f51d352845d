import request from 'supertest';
import { makeKey, signToken } from '../helpers/access-tokens';
import { BROKERS, startTestServer, uniquePrefix } from '../helpers/test-server';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const ORIGIN = 'https://app.example';
const PUBLISH_TOKEN = 'publish-token-for-idempotency-tests';

interface Answer {
  readonly status: number;
  readonly body: { id?: string; event?: string; error?: { code: string } };
}

/** A publish through the bare request listener, or through Koa (a CORS request) with `viaKoa`. */
async function publish(server: Server, channel: string, bearerToken: string, key: string, body: string, viaKoa = false): Promise<Answer> {
  let call = request(server.url)
    .post(`/channels/${channel}/events`)
    .set('Authorization', `Bearer ${bearerToken}`)
    .set('Idempotency-Key', key)
    .set('Content-Type', 'application/json');
  if (viaKoa) call = call.set('Origin', ORIGIN);
  const response = await call.send(body);
  return { status: response.status, body: response.body as Answer['body'] };
}

async function historyData(server: Server, channel: string): Promise<unknown[]> {
  const response = await request(server.url).get(`/channels/${channel}/events?limit=1000`).expect(200);
  return (response.body as { events: Array<{ data: unknown }> }).events.map((event) => event.data);
}

describe.each(BROKERS)('Idempotency-Key scopes (%s broker)', (broker) => {
  const key = makeKey('HS256');
  let servers: Server[];
  let alice: string;
  let bob: string;
  let anonymous: string;

  beforeAll(async () => {
    const env = { ...key.env, CORS_ORIGINS: ORIGIN, PUBLISH_TOKEN, REDIS_PREFIX: uniquePrefix() };
    servers = broker === 'redis' ? await Promise.all([startTestServer(broker, env), startTestServer(broker, env)]) : [await startTestServer(broker, env)];
    alice = await signToken(key, { publish: ['**'] }, { sub: 'alice' });
    bob = await signToken(key, { publish: ['**'] }, { sub: 'bob' });
    anonymous = await signToken(key, { publish: ['**'] });
  });
  afterAll(() => Promise.all(servers.map((server) => server.close())));

  const at = (n: number): Server => servers[n % servers.length]!;

  it.each([false, true])('gives two publishers using one key each their own event (through Koa: %s)', async (viaKoa) => {
    const channel = `orders-${String(viaKoa)}`;
    const fromAlice = await publish(at(0), channel, alice, 'order-1', '{"data":"alice"}', viaKoa);
    const fromBob = await publish(at(1), channel, bob, 'order-1', '{"data":"bob"}', viaKoa);
    expect([fromAlice.status, fromBob.status]).toEqual([201, 201]);
    expect(fromBob.body.id).not.toBe(fromAlice.body.id);
    expect(await historyData(at(1), channel)).toEqual(['alice', 'bob']);
  });

  it.each([false, true])('answers a repeat with the same event and data 200 with the first body, on any instance (through Koa: %s)', async (viaKoa) => {
    const channel = `repeat-${String(viaKoa)}`;
    const first = await publish(at(0), channel, alice, 'k', '{"event":"placed","data":{"a":1,"b":[1,2]}}', viaKoa);
    expect(first.status).toBe(201);
    // Whitespace is not data: compared after parsing, as compact JSON.
    const repeat = await publish(at(1), channel, alice, 'k', '{ "data" : { "a" : 1, "b" : [1, 2] }, "event" : "placed" }', viaKoa);
    expect(repeat).toEqual({ status: 200, body: first.body });
    expect(await historyData(at(0), channel)).toEqual([{ a: 1, b: [1, 2] }]);
  });

  it.each([false, true])('refuses a repeat with other data or another event name: 422 idempotency_key_reused, nothing stored (through Koa: %s)', async (viaKoa) => {
    const channel = `reused-${String(viaKoa)}`;
    expect((await publish(at(0), channel, alice, 'k', '{"event":"placed","data":{"a":1,"b":2}}', viaKoa)).status).toBe(201);
    for (const body of ['{"event":"placed","data":{"a":1,"b":3}}', '{"event":"cancelled","data":{"a":1,"b":2}}', '{"event":"placed","data":{"b":2,"a":1}}']) {
      const refused = await publish(at(1), channel, alice, 'k', body, viaKoa);
      expect([refused.status, refused.body.error?.code]).toEqual([422, 'idempotency_key_reused']);
    }
    expect(await historyData(at(0), channel)).toEqual([{ a: 1, b: 2 }]);
  });

  it('shares one scope between PUBLISH_TOKEN and tokens without a sub, apart from each sub', async () => {
    expect((await publish(at(0), 'shared', PUBLISH_TOKEN, 'k', '{"data":"shared"}')).status).toBe(201);
    expect((await publish(at(1), 'shared', anonymous, 'k', '{"data":"shared"}')).status).toBe(200);
    expect((await publish(at(1), 'shared', anonymous, 'k', '{"data":"other"}')).body.error?.code).toBe('idempotency_key_reused');
    expect((await publish(at(0), 'shared', bob, 'k', '{"data":"bob"}')).status).toBe(201);
    expect(await historyData(at(0), 'shared')).toEqual(['shared', 'bob']);
  });
});

import { startRedisCluster, type RedisCluster } from '../ops/redis-topology';
import { makeKey, signToken } from '../helpers/access-tokens';
import { OpenStreams } from '../helpers/sse-client';
import { eventually } from '../helpers/eventually';
import { startTestServer, uniquePrefix, type TestServer } from '../helpers/test-server';

type Server = TestServer;

const ADMIN_TOKEN = 'admin-token-for-a-redis-cluster-1';

/**
 * The control channel is a shard channel tagged `{#control}` and the revocation and stats keys
 * share their tags: SPUBLISH from a script and MGET must stay in one slot on a real Cluster.
 */
describe('the server API on a Redis Cluster (sharded control channel)', () => {
  const key = makeKey('HS256');
  const streams = new OpenStreams();
  let cluster: RedisCluster;
  let a: Server;
  let b: Server;
  let env: Record<string, string>;

  beforeAll(async () => {
    cluster = await startRedisCluster(0);
    env = { ADMIN_TOKEN, ...key.env, PUBLIC_CHANNELS: '', REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_PREFIX: uniquePrefix() };
    [a, b] = await Promise.all([startTestServer('redis', env), startTestServer('redis', env)]);
  }, 60_000);
  afterEach(() => streams.closeAll());
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await cluster?.stop();
  });

  const post = (server: Server, path: string, body: unknown): Promise<Response> =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  it('disconnects on B from A, revokes on B from A, and an instance started later honours the revocation', async () => {
    const kicked = await signToken(key, { subscribe: ['**'] }, { sub: 'kim' });
    const onB = await streams.open(`${b.url}/channels/c.room/stream`, { Authorization: `Bearer ${kicked}` });
    expect(onB.response?.statusCode).toBe(200);
    expect((await post(a, '/api/disconnect', { sub: 'kim' })).status).toBe(200);
    await onB.waitForEnd();
    expect(onB.messages[0]?.event).toBe('hub.disconnect');

    const revoked = await signToken(key, { subscribe: ['**'] }, { sub: 'rex' });
    const again = await streams.open(`${b.url}/channels/c.room/stream`, { Authorization: `Bearer ${revoked}` });
    expect((await post(a, '/api/revoke', { sub: 'rex' })).status).toBe(200);
    await again.waitForEnd();
    expect((await streams.open(`${b.url}/channels/c.room/stream`, { Authorization: `Bearer ${revoked}` })).response?.statusCode).toBe(401);
    const later = await startTestServer('redis', env);
    try {
      expect((await streams.open(`${later.url}/channels/c.room/stream`, { Authorization: `Bearer ${revoked}` })).response?.statusCode).toBe(401);
    } finally {
      streams.closeAll();
      await later.close();
    }
  });

  it('lists both instances in /api/stats', async () => {
    const count = async (): Promise<number> =>
      ((await (await fetch(`${a.url}/api/stats`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { instances: unknown[] }).instances.length;
    await eventually(async () => (await count()) === 2, 'both instances reported', { timeoutMs: 5000 });
  });
});

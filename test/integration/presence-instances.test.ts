import { startRedisServer } from '../helpers/redis-server';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';
import { OpenStreams, type SseClient } from '../helpers/sse-client';
import { startTestServer, testRedisUrl, uniquePrefix, type TestServer } from '../helpers/test-server';
import { chatLogin, memberList, signals, waitForPresence } from '../helpers/presence';

const streams = new OpenStreams();
afterEach(() => streams.closeAll());

/** Publishes a marker through `via` and waits until `observer` has it: earlier signals arrived too. */
async function settle(via: string, observer: SseClient): Promise<void> {
  const response = await fetch(`${via}/channels/chat/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ event: 'marker', data: null }),
  });
  const { id } = (await response.json()) as { id: string };
  await observer.waitFor((client) => client.messages.some((message) => message.id === id), 10_000, `marker ${id}`);
}

describe('presence over two instances on one Redis', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startTestServer('redis');
    b = await startTestServer('redis', { REDIS_PREFIX: a.config.redisPrefix });
  });
  afterAll(() => Promise.all([a.close(), b.close()]));

  it('counts every instance, dedupes a sub across instances and announces joins and leaves on both', async () => {
    const observerA = await streams.open(`${a.url}/stream`);
    const observerB = await streams.open(`${b.url}/stream`);
    const alice = await chatLogin(a.url, 'Alice');
    const bob = await chatLogin(b.url, 'Bob');
    const aliceOnA = await streams.open(`${a.url}/stream`, alice);
    const bobOnB = await streams.open(`${b.url}/stream`, bob);
    // The session cookie works on both instances (shared SESSION_KEYS): a second tab elsewhere.
    const aliceOnB = await streams.open(`${b.url}/stream`, alice);
    for (const server of [a, b]) {
      const body = await waitForPresence(server.url, (presence) => presence.connections === 5 && memberList(presence).join() === 'Alice×2,Bob×1');
      expect(body.members).toEqual([
        { sub: 'Alice', info: {}, connections: 2 },
        { sub: 'Bob', info: {}, connections: 1 },
      ]);
    }
    aliceOnA.close();
    await waitForPresence(b.url, (presence) => memberList(presence).join() === 'Alice×1,Bob×1');
    await settle(a.url, observerA);
    await settle(b.url, observerB);
    expect(signals(observerA)).toEqual(['join Alice', 'join Bob']);
    expect(signals(observerB)).toEqual(['join Alice', 'join Bob']);

    aliceOnB.close();
    bobOnB.close();
    await waitForPresence(a.url, (presence) => presence.connections === 2 && presence.members.length === 0);
    await settle(b.url, observerA);
    await settle(a.url, observerB);
    for (const observer of [observerA, observerB]) {
      expect(signals(observer).slice(2).sort()).toEqual(['leave Alice', 'leave Bob']);
    }
  });
});

describe('an instance shut down gracefully', () => {
  it('announces its members leaving at once, not after they expire', async () => {
    const stays = await startTestServer('redis');
    const stops = await startTestServer('redis', { REDIS_PREFIX: stays.config.redisPrefix });
    try {
      const observer = await streams.open(`${stays.url}/stream`);
      await streams.open(`${stops.url}/stream`, await chatLogin(stops.url, 'Erin'));
      await observer.waitFor((client) => signals(client).includes('join Erin'), 5000, 'join Erin');
      await stops.close();
      // Entries live 60 s by default: hearing the leave within 5 s means it was written on close.
      await observer.waitFor((client) => signals(client).includes('leave Erin'), 5000, 'leave Erin');
      expect(memberList(await waitForPresence(stays.url, (presence) => presence.connections === 1))).toEqual([]);
    } finally {
      await Promise.all([stays.close(), stops.close()]);
    }
  });
});

describe('an instance killed without closing its streams', () => {
  let survivor: TestServer;
  let doomed: ServerProcess;
  beforeAll(async () => {
    // Short lifetimes (refresh 200 ms, entries live 600 ms) so the test need not wait a minute.
    survivor = await startTestServer('redis', { PRESENCE_REFRESH_MS: '200', REDIS_PREFIX: uniquePrefix() });
    doomed = await startServerProcess({
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: survivor.config.redisPrefix,
      SESSION_KEYS: 'test-key',
      PRESENCE_REFRESH_MS: '200',
    });
  });
  afterAll(() => Promise.all([survivor.close(), doomed.stop('SIGKILL')]));

  it('has its members expire, and the survivors announce their leave', async () => {
    const observer = await streams.open(`${survivor.url}/stream`);
    const carol = await chatLogin(survivor.url, 'Carol');
    const dave = await chatLogin(survivor.url, 'Dave');
    await streams.open(`${doomed.url}/stream`, carol);
    await streams.open(`${doomed.url}/stream`, dave);
    await streams.open(`${survivor.url}/stream`, dave);
    await streams.open(`${doomed.url}/stream`);
    await waitForPresence(survivor.url, (presence) => presence.connections === 5 && memberList(presence).join() === 'Carol×1,Dave×2');

    const killedAt = Date.now();
    await doomed.stop('SIGKILL');
    await observer.waitFor((client) => signals(client).includes('leave Carol'), 5000, 'leave Carol');
    const leftAfterMs = Date.now() - killedAt;
    const body = await waitForPresence(survivor.url, (presence) => presence.connections === 2);
    expect(memberList(body)).toEqual(['Dave×1']);
    expect(signals(observer)).toEqual(['join Carol', 'join Dave', 'leave Carol']);
    // Within the entries' lifetime plus one refresh (and some scheduling slack).
    expect(leftAfterMs).toBeLessThan(2000);
  });
});

describe('presence through a Redis outage', () => {
  it('answers 503 while Redis is away and writes every member back as soon as it returns empty', async () => {
    const redis = await startRedisServer();
    const server = await startTestServer('redis', { REDIS_URL: redis.url });
    try {
      await streams.open(`${server.url}/stream`, await chatLogin(server.url, 'Fay'));
      await streams.open(`${server.url}/stream`);
      await waitForPresence(server.url, (presence) => presence.connections === 2 && presence.members.length === 1);
      await redis.kill();
      for (;;) {
        const response = await fetch(`${server.url}/channels/chat/presence`);
        if (response.status === 503) {
          expect(((await response.json()) as { error: { code: string } }).error.code).toBe('broker_unavailable');
          break;
        }
      }
      await redis.start();
      // Well before the 15 s refresh tick: the tracker rewrites its state when the broker is back.
      const body = await waitForPresence(server.url, (presence) => presence.connections === 2, 'chat', 8000);
      expect(memberList(body)).toEqual(['Fay×1']);
    } finally {
      await server.close();
      await redis.stop();
    }
  });
});

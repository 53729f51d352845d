import Redis from 'ioredis';
import request from 'supertest';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';
import { SseClient } from '../helpers/sse-client';
import { uniquePrefix } from '../helpers/test-server';
import { eventually } from '../helpers/eventually';

describe('several server processes on one Redis', () => {
  let redis: RedisServer;
  let servers: ServerProcess[] = [];
  const clients: SseClient[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    const prefix = uniquePrefix();
    servers = await Promise.all([1, 2, 3].map(() => startServerProcess({ REDIS_URL: redis.url, REDIS_PREFIX: prefix })));
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    await redis.stop();
  });

  it('delivers an event posted to any instance to the clients of all, with the same id; one subscriber connection per process', async () => {
    const channels = ['alpha', 'beta', 'gamma'];
    for (const server of servers) {
      for (const channel of channels) {
        for (let n = 0; n < 4; n++) clients.push(await SseClient.open(`${server.url}/channels/${channel}/stream`));
      }
    }
    const published: Record<string, string[]> = { alpha: [], beta: [], gamma: [] };
    for (let n = 0; n < 9; n++) {
      const channel = channels[n % 3]!;
      const via = servers[n % servers.length]!;
      const response = await request(via.url).post(`/channels/${channel}/events`).send({ data: n }).expect(201);
      published[channel]!.push((response.body as { id: string }).id);
    }
    let index = 0;
    for (let server = 0; server < servers.length; server++) {
      for (const channel of channels) {
        for (let n = 0; n < 4; n++) {
          const client = clients[index++]!;
          await client.waitForMessages(3);
          expect(client.messages.map((message) => message.id)).toEqual(published[channel]);
        }
      }
    }

    const admin = new Redis(redis.url);
    try {
      const list = (await admin.call('CLIENT', 'LIST')) as string;
      const subscribers = list.split('\n').filter((line) => line.includes('name=ssehub-subscriber'));
      const commands = list.split('\n').filter((line) => line.includes('name=ssehub-command'));
      // 36 clients on 3 channels and 3 processes: one subscriber connection each, with the 3
      // channels and the server API's control channel on it.
      expect(subscribers).toHaveLength(3);
      expect(commands).toHaveLength(3);
      for (const line of subscribers) expect(line).toMatch(/ sub=4 /);
    } finally {
      admin.disconnect();
    }
  });
});

describe('shutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('on %s ends open streams, closes Redis and exits 0 within 5 seconds', async (signal) => {
    const server = await startServerProcess({ REDIS_URL: process.env.TEST_REDIS_URL ?? '', REDIS_PREFIX: uniquePrefix() });
    const client = await SseClient.open(`${server.url}/channels/bye/stream`);
    try {
      await client.waitFor((c) => c.retries.length === 1, 5000, 'the retry line');
      const { code, elapsedMs } = await server.stop(signal);
      await client.waitForEnd(5000);
      expect(code).toBe(0);
      expect(elapsedMs).toBeLessThan(5000);
      expect(server.output()).toMatch(/shutting down/);
      expect(server.output()).toMatch(/shutdown complete/);
    } finally {
      client.close();
      await server.stop('SIGKILL');
    }
  });
});

describe('WORKERS', () => {
  it('runs several worker processes on one port, each serving streams, and stops them all on SIGTERM', async () => {
    const server = await startServerProcess({ WORKERS: '2', REDIS_URL: process.env.TEST_REDIS_URL ?? '', REDIS_PREFIX: uniquePrefix() });
    const clients: SseClient[] = [];
    try {
      await eventually(() => {
        if ((server.output().match(/"address"/g) ?? []).length < 2) throw new Error(`workers did not start: ${server.output()}`);
      }, 'both workers to listen', { intervalMs: 20 });
      for (let n = 0; n < 6; n++) clients.push(await SseClient.open(`${server.url}/channels/workers/stream`));
      const response = await request(server.url).post('/channels/workers/events').send({ data: 'to all' }).expect(201);
      for (const client of clients) {
        await client.waitForMessages(1);
        expect(client.messages[0]?.id).toBe((response.body as { id: string }).id);
      }
      const pids = new Set([...server.output().matchAll(/"pid":(\d+)[^\n]*"address"/g)].map((match) => match[1]));
      expect(pids.size).toBe(2);
      const { code } = await server.stop('SIGTERM');
      expect(code).toBe(0);
    } finally {
      for (const client of clients) client.close();
      await server.stop('SIGKILL');
    }
  });
});

import { readFileSync } from 'node:fs';
import request from 'supertest';
import { OpenStreams, type SseClient } from '../helpers/sse-client';
import { publishId } from '../helpers/publish';
import { startTestServer, uniquePrefix, type TestServer } from '../helpers/test-server';
import { SHIPPED_NGINX_CONF, startNginx, type NginxProxy } from './nginx-proxy';
import { eventually } from '../helpers/eventually';

async function connectedClients(server: TestServer): Promise<number> {
  const response = await request(server.url).get('/metrics').expect(200);
  return Number(/^ssehub_clients_connected (\d+)$/m.exec(response.text)?.[1]);
}

describe('two hub instances behind nginx configured by deploy/nginx.conf', () => {
  let hubA: TestServer;
  let hubB: TestServer;
  let nginx: NginxProxy;
  const streams = new OpenStreams();
  const open = (path: string, headers?: Record<string, string>): Promise<SseClient> => streams.open(nginx.url + path, headers);

  beforeAll(async () => {
    // Both instances share one Redis and one prefix, as instances of one deployment do.
    const env = { REDIS_PREFIX: uniquePrefix() };
    [hubA, hubB] = await Promise.all([startTestServer('redis', env), startTestServer('redis', env)]);
    nginx = await startNginx([hubA.port, hubB.port]);
  });
  afterEach(() => {
    streams.closeAll();
  });
  afterAll(async () => {
    await nginx?.stop();
    await Promise.all([hubA?.close(), hubB?.close()]);
  });

  it('streams through nginx unbuffered and uncompressed: the retry line and each event arrive while the stream stays open', async () => {
    const client = await open('/channels/proxied/stream', { 'Accept-Encoding': 'gzip' });
    expect(client.response?.statusCode).toBe(200);
    expect(client.response?.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(client.response?.headers['content-encoding']).toBeUndefined();
    // Only a few bytes were sent so far: a buffering proxy would hold them back.
    await client.waitFor((c) => c.retries.length === 1, 3000, 'the retry line');
    for (let n = 1; n <= 3; n++) {
      const started = Date.now();
      const id = Number(await publishId(nginx.url, 'proxied', n));
      await client.waitForMessages(n, 2000);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(client.messages[n - 1]?.id).toBe(String(id));
      expect(client.ended).toBe(false);
    }
  });

  it('spreads streams over both instances, and every client gets every event whichever instance took the publish', async () => {
    const streams: SseClient[] = [];
    for (let n = 0; n < 4; n++) streams.push(await open('/channels/spread/stream'));
    await Promise.all(streams.map((client) => client.waitFor((c) => c.retries.length === 1, 3000, 'the retry line')));
    // Round robin: both instances hold streams (the other tests' clients are closed by now).
    expect(await connectedClients(hubA)).toBeGreaterThan(0);
    expect(await connectedClients(hubB)).toBeGreaterThan(0);
    const ids: number[] = [];
    for (let n = 0; n < 4; n++) ids.push(Number(await publishId(nginx.url, 'spread', n)));
    expect(ids.slice(1).map((id, index) => id - ids[index]!)).toEqual([1, 1, 1]);
    for (const client of streams) {
      await client.waitForMessages(4);
      expect(client.ids).toEqual(ids);
    }
  });

  it('resumes through nginx with Last-Event-ID (header or query parameter)', async () => {
    const ids: number[] = [];
    for (let n = 0; n < 4; n++) ids.push(Number(await publishId(nginx.url, 'resume', n)));
    const byHeader = await open('/channels/resume/stream', { 'Last-Event-ID': String(ids[0]) });
    const byQuery = await open(`/channels/resume/stream?lastEventId=${ids[1]}`);
    await byHeader.waitForMessages(3);
    await byQuery.waitForMessages(2);
    ids.push(Number(await publishId(nginx.url, 'resume', 4)));
    await byHeader.waitForMessages(4);
    await byQuery.waitForMessages(3);
    expect(byHeader.ids).toEqual(ids.slice(1));
    expect(byQuery.ids).toEqual(ids.slice(2));
  });

  it('logs requests without their query string, so a stream ticket never reaches the access log', async () => {
    const client = await open('/channels/logged/stream?ticket=secret-ticket-value&lastEventId=0');
    await client.waitFor((c) => c.lastEventId !== undefined);
    client.close();
    await request(nginx.url).get('/healthz?ticket=another-secret').expect(200);
    // nginx writes its access log line when the proxied stream has ended, after we saw it close.
    const log = await eventually(() => {
      const text = nginx.accessLog();
      expect(text).toMatch(/"GET \/channels\/logged\/stream HTTP\/1\.1" 200 /);
      return text;
    }, 'the stream request in the access log', { timeoutMs: 5000, intervalMs: 20 });
    expect(log).toMatch(/"GET \/healthz HTTP\/1\.1" 200 /);
    expect(log).not.toContain('secret');
    expect(log).not.toContain('ticket=');
  });

  it('serves the chat stream route and JSON endpoints through the same configuration', async () => {
    const chat = await open('/stream');
    await chat.waitFor((c) => c.retries.length === 1, 3000, 'the retry line');
    const id = Number(await publishId(nginx.url, 'chat', { text: 'via nginx' }));
    await chat.waitForMessages(1);
    expect(chat.ids).toEqual([id]);
    const history = await request(nginx.url).get(`/channels/chat/events?after=${id - 1}`).expect(200);
    expect(history.body).toEqual({ events: [{ id: String(id), event: 'message', data: { text: 'via nginx' } }], more: false });
    await request(nginx.url).get('/readyz').expect(200);
  });
});

describe('deploy/nginx.conf', () => {
  it('sets the SSE directives on the stream location and never gzips event streams', () => {
    const conf = readFileSync(SHIPPED_NGINX_CONF, 'utf8');
    const streamLocation = /location ~ \^\/\(channels\/\[\^\/\]\+\/\)\?stream\$ \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    for (const directive of ['proxy_buffering off;', 'proxy_cache off;', 'gzip off;', 'proxy_read_timeout 1h;']) {
      expect(streamLocation).toContain(directive);
    }
    expect(conf).toContain('proxy_http_version 1.1;');
    expect(conf).toContain("proxy_set_header Connection '';");
    expect(conf).not.toMatch(/gzip_types[^;]*event-stream/);
    expect(conf).not.toMatch(/proxy_ignore_headers[^;]*X-Accel-Buffering/);
  });
});

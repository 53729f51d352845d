import { connect } from 'node:net';
import request from 'supertest';
import { OpenStreams } from '../helpers/sse-client';
import { startTestServer, type TestServer } from '../helpers/test-server';

interface RawExchange {
  /** Everything the server sent before the connection ended. */
  readonly response: string;
  /** The socket error seen by the client (EPIPE, ECONNRESET…), if any. */
  readonly error: string | null;
  /** Milliseconds from the first byte written to the first byte of the response. */
  readonly answeredAfterMs: number | null;
  /** Milliseconds from the first byte written to the end of the connection. */
  readonly closedAfterMs: number;
}

/**
 * Speaks HTTP/1.1 over a raw socket: writes `head`, then each chunk of `body` after `gapMs`
 * (0 = all at once, before reading anything, then half-closes), and collects what the server
 * answers until the connection ends.
 */
function rawExchange(port: number, head: string, body: Buffer[], gapMs = 0): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const started = Date.now();
    let response = '';
    let answeredAfterMs: number | null = null;
    let error: string | null = null;
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: Buffer) => {
      answeredAfterMs ??= Date.now() - started;
      response += chunk.toString('latin1');
    });
    socket.on('error', (failure: NodeJS.ErrnoException) => {
      error = failure.code ?? failure.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ response, error, answeredAfterMs, closedAfterMs: Date.now() - started });
    });
    socket.write(head);
    if (gapMs === 0) {
      for (const chunk of body) socket.write(chunk);
      socket.end();
      return;
    }
    let index = 0;
    const next = (): void => {
      if (socket.destroyed || index >= body.length) return;
      socket.write(body[index++]!);
      timer = setTimeout(next, gapMs);
    };
    next();
  });
}

function statusOf(exchange: RawExchange): number | null {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(exchange.response);
  return match ? Number(match[1]) : null;
}

function jsonBodyOf(exchange: RawExchange): unknown {
  const start = exchange.response.indexOf('\r\n\r\n');
  const text = exchange.response.slice(start + 4);
  // A chunked answer: the JSON is the first chunk.
  const json = text.includes('{') ? text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1) : text;
  return JSON.parse(json) as unknown;
}

describe('request bodies: a deadline, and the 413 read to the end', () => {
  let server: TestServer;
  const streams = new OpenStreams();

  beforeAll(async () => {
    server = await startTestServer('redis', { BODY_TIMEOUT_MS: '600', HEARTBEAT_MS: '100' });
  });
  afterAll(async () => {
    streams.closeAll();
    await server?.close();
  });

  it('answers a body that trickles in past BODY_TIMEOUT_MS with 408 request_timeout, within the deadline, and stores nothing', async () => {
    const body = Buffer.from(JSON.stringify({ data: 'x'.repeat(40) }));
    const chunks = [...body].map((byte) => Buffer.from([byte]));
    const exchange = await rawExchange(
      server.port,
      `POST /channels/trickle/events HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      chunks,
      100,
    );
    expect(statusOf(exchange)).toBe(408);
    expect(jsonBodyOf(exchange)).toEqual({ error: { code: 'request_timeout', message: expect.any(String) as string } });
    // The deadline is 600 ms; the whole body would have taken ~5 s.
    expect(exchange.answeredAfterMs).toBeGreaterThanOrEqual(550);
    expect(exchange.answeredAfterMs).toBeLessThan(1500);
    // …and the connection is closed with it, not held open for the rest of the trickle.
    expect(exchange.closedAfterMs).toBeLessThan(2000);
    const history = await request(server.url).get('/channels/trickle/events').expect(200);
    expect(history.body).toEqual({ events: [], more: false });
  });

  it('closes a connection whose body trickles to a route that never reads it, soon after the deadline', async () => {
    const exchange = await rawExchange(
      server.port,
      'POST /no/such/route HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
      Array.from({ length: 100 }, () => Buffer.from('x')),
      100,
    );
    expect(statusOf(exchange)).toBe(404);
    // Cut at the deadline (600 ms) plus its 1 s grace, long before the 10 s the body needed.
    expect(exchange.closedAfterMs).toBeGreaterThanOrEqual(1500);
    expect(exchange.closedAfterMs).toBeLessThan(3000);
  });

  it.each([
    ['with Content-Length', false, ''],
    ['chunked', true, ''],
    ['with Content-Length and Connection: close', false, 'Connection: close\r\n'],
    ['chunked and Connection: close', true, 'Connection: close\r\n'],
  ])('answers a 3 MB body %s, written whole before reading, with 413 in 20 tries of 20', async (_label, chunked, extra) => {
    const payload = Buffer.alloc(3 * 1024 * 1024, 'a');
    const head = chunked
      ? `POST /channels/big/events HTTP/1.1\r\nHost: test\r\n${extra}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`
      : `POST /channels/big/events HTTP/1.1\r\nHost: test\r\n${extra}Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`;
    const body = chunked ? [Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n0\r\n\r\n')] : [payload];
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      const exchange = await rawExchange(server.port, head, body);
      outcomes.push(`${statusOf(exchange) ?? 'none'}${exchange.error ? ` ${exchange.error}` : ''}`);
    }
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => '413'));
  }, 60_000);

  it('keeps a stream open and delivering long past BODY_TIMEOUT_MS', async () => {
    const client = await streams.open(`${server.url}/channels/long-stream/stream`);
    // Heartbeats every 100 ms: wait until the stream has lived three deadlines.
    const opened = Date.now();
    await client.waitFor(() => Date.now() - opened > 1800, 5000, 'three body deadlines');
    expect(client.ended).toBe(false);
    await request(server.url).post('/channels/long-stream/events').send({ data: 'still here' }).expect(201);
    await client.waitForMessages(1);
    expect(client.messages[0]?.data).toBe('"still here"');
  });
});

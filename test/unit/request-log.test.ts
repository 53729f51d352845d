import { Writable } from 'node:stream';
import Koa from 'koa';
import pino from 'pino';
import request from 'supertest';
import { requestLog } from '../../src/middleware/request-log';

type Line = Record<string, unknown>;

/**
 * A Koa app with only the request log, the log lines it wrote, and `linesWritten(n)`, which
 * resolves once n lines are there (a line is written when the response closes, which may come
 * after the client has read the response).
 */
function appLoggingAt(level: string): { app: Koa; lines: Line[]; linesWritten: (count: number) => Promise<Line[]> } {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Line);
      sink.emit('line');
      done();
    },
  });
  const linesWritten = (count: number): Promise<Line[]> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (lines.length < count) return;
        sink.off('line', check);
        resolve(lines);
      };
      sink.on('line', check);
      check();
    });
  const app = new Koa();
  app.use(requestLog(pino({ level }, sink)));
  app.use((ctx) => {
    ctx.status = ctx.path === '/missing' ? 404 : 201;
    ctx.body = 'x';
  });
  return { app, lines, linesWritten };
}

describe('requestLog', () => {
  it('logs method, path, status and duration once per request at info, probes not at all', async () => {
    const { app, linesWritten } = appLoggingAt('info');
    await request(app.callback()).post('/channels/a/events?token=secret').expect(201);
    await request(app.callback()).get('/healthz').expect(201);
    await request(app.callback()).get('/missing').expect(404);
    const lines = await linesWritten(2);
    expect(lines.map(({ method, path, status, msg }) => ({ method, path, status, msg }))).toEqual([
      { method: 'POST', path: '/channels/a/events', status: 201, msg: 'request' },
      { method: 'GET', path: '/missing', status: 404, msg: 'request' },
    ]);
    expect(typeof lines[0]?.ms).toBe('number');
  });

  it('logs probes at debug', async () => {
    const { app, linesWritten } = appLoggingAt('debug');
    await request(app.callback()).get('/healthz').expect(201);
    expect(await linesWritten(1)).toEqual([expect.objectContaining({ path: '/healthz', level: 20 })]);
  });

  it('passes requests through without logging above info', async () => {
    const { app, lines } = appLoggingAt('warn');
    await request(app.callback()).post('/channels/a/events').expect(201);
    expect(lines).toEqual([]);
  });
});

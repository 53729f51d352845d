import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Router from '@koa/router';
import Koa from 'koa';
import type { ProbeClock } from '../../src/doctor/probe-stream';
import { diagnosticsRoutes } from '../../src/routes/diagnostics';

/** A clock whose timers never fire: every probe stays open until its client leaves. */
const FROZEN_CLOCK: ProbeClock = { now: () => Date.now(), setTimer: () => undefined, clearTimer: () => undefined };
const RETRY_MS = 1000;

interface OpenProbe {
  readonly req: ClientRequest;
  readonly res: IncomingMessage;
  /** The body up to the end (for a probe that ends), else what arrived until `waitFor` matched. */
  readonly body: () => string;
  waitFor(pattern: RegExp): Promise<void>;
  ended: Promise<void>;
}

/** True once a probe event arrives; false when the answer ends without one (the busy answer). */
async function isServed(probe: OpenProbe): Promise<boolean> {
  await Promise.race([probe.ended, probe.waitFor(/event: probe/)]);
  return probe.body().includes('event: probe');
}

let server: ReturnType<Koa['listen']>;
let base: string;
const opened: ClientRequest[] = [];

function openProbe(method = 'GET'): Promise<OpenProbe> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/diagnostics/probe`, { method, headers: { 'Last-Event-ID': '7' } }, (res) => {
      let body = '';
      const waiters: Array<() => void> = [];
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        body += text;
        waiters.splice(0).forEach((wake) => wake());
      });
      const ended = new Promise<void>((done) => res.once('end', done));
      resolve({
        req,
        res,
        body: () => body,
        ended,
        waitFor: async (pattern) => {
          while (!pattern.test(body)) await new Promise<void>((wake) => waiters.push(wake));
        },
      });
    });
    req.once('error', reject);
    opened.push(req);
    req.end();
  });
}

beforeAll(async () => {
  const app = new Koa();
  const router = new Router();
  diagnosticsRoutes(router, { retryMs: RETRY_MS, viewsDir: join(__dirname, '..', '..', 'views'), clock: FROZEN_CLOCK });
  app.use(router.routes());
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  opened.forEach((req) => req.destroy());
  await new Promise((resolve) => server.close(resolve));
});

describe('GET /diagnostics/probe', () => {
  it('answers with the headers of any stream, retry first, then the first probe event at once', async () => {
    const probe = await openProbe();
    expect(probe.res.statusCode).toBe(200);
    expect(probe.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(probe.res.headers['cache-control']).toBe('no-cache, no-transform');
    expect(probe.res.headers['x-accel-buffering']).toBe('no');
    await probe.waitFor(/"seq":1/);
    expect(probe.body()).toMatch(/^retry: 1000\n\nevent: probe\ndata: \{"seq":1,"sentAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","lastEventId":"7"\}\n\n$/);
    probe.req.destroy();
  });

  it('serves 10 at a time: the 11th gets the busy answer, and a client that leaves frees its slot', async () => {
    // The previous test's client left; its slot frees once the server sees it go.
    const probes = [];
    for (;;) {
      const probe = await openProbe();
      if (await isServed(probe)) {
        probes.push(probe);
        if (probes.length === 10) break;
      }
    }
    const busy = await openProbe();
    expect(await isServed(busy)).toBe(false);
    expect(busy.res.statusCode).toBe(200);
    expect(busy.res.headers['content-type']).toMatch(/^text\/event-stream/);
    const retry = Number(/^retry: (\d+)\n\n$/.exec(busy.body())?.[1]);
    expect(retry).toBeGreaterThanOrEqual(5 * RETRY_MS);
    expect(retry).toBeLessThanOrEqual(15 * RETRY_MS);

    probes[0]!.req.destroy();
    // Served again once the server has seen the client go (each refusal answers at once).
    let served: OpenProbe | undefined;
    while (served === undefined) {
      const probe = await openProbe();
      if (await isServed(probe)) served = probe;
    }
    expect(served.body()).toContain('"seq":1');
    probes.forEach((probe) => probe.req.destroy());
    served.req.destroy();
  });

  it('answers HEAD at once with the stream headers and no body', async () => {
    const probe = await openProbe('HEAD');
    await probe.ended;
    expect(probe.res.statusCode).toBe(200);
    expect(probe.res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(probe.body()).toBe('');
  });
});

describe('GET /doctor', () => {
  it('serves the page and its modules with a strict content security policy', async () => {
    const page = await fetch(`${base}/doctor`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('src="doctor/page.js"');
    const script = await fetch(`${base}/doctor/page.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
  });
});

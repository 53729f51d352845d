import { PassThrough } from 'node:stream';
import type Router from '@koa/router';
import { runProbe, SYSTEM_CLOCK, type ProbeClock } from '../doctor/probe-stream';
import { encodeRetry } from '../sse/encode';
import { openEventStream, refuseEventStream, SSE_HEADERS } from '../sse/stream';
import { doctorPageRoutes } from './doctor-page';

export interface DiagnosticsOptions {
  readonly retryMs: number;
  /** Where views/ is: the /doctor page's files are in its `doctor/` folder. */
  readonly viewsDir: string;
  readonly clock?: ProbeClock;
  /** Probes served at a time by this process; past it, the busy answer. */
  readonly maxProbes?: number;
}

const MAX_PROBES = 10;
/** A Last-Event-ID is echoed back; a longer one is cut, so a probe stays a few hundred bytes. */
const MAX_ECHOED_ID = 256;

/**
 * `GET /diagnostics/probe` (public; ssehub doctor and the /doctor page read it) and the /doctor
 * page. The probe is a stream like any other (same headers, `retry:` first) that sends six timed
 * events and ends; at most `maxProbes` at a time, past it the busy answer of a full hub.
 */
export function diagnosticsRoutes(router: Router, options: DiagnosticsOptions): void {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const maxProbes = options.maxProbes ?? MAX_PROBES;
  let active = 0;
  router.get('/diagnostics/probe', (ctx) => {
    if (ctx.method === 'HEAD') {
      ctx.set(SSE_HEADERS);
      ctx.status = 200;
      return;
    }
    if (active >= maxProbes) {
      ctx.respond = false;
      refuseEventStream(ctx.res, options.retryMs);
      return;
    }
    const header = ctx.get('Last-Event-ID');
    const body = new PassThrough();
    active++;
    body.once('close', () => active--);
    body.write(encodeRetry(options.retryMs));
    runProbe(body, header === '' ? null : header.slice(0, MAX_ECHOED_ID), clock);
    ctx.respond = false;
    openEventStream(ctx.req, ctx.res, body);
  });
  doctorPageRoutes(router, options.viewsDir);
}

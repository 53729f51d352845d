import type Router from '@koa/router';
import type { EventBroker } from '../broker/broker';
import type { Metrics } from '../metrics';

/** Probes and metrics: `/healthz` (the process runs), `/readyz` (broker ready), `/metrics`. */
export function healthRoutes(router: Router, broker: EventBroker, metrics: Metrics): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', (ctx) => {
    const ready = broker.ready;
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'broker_unavailable' };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}

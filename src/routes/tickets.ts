import type Router from '@koa/router';
import type { Access } from '../access/access';
import { TooManyTicketsError } from '../access/tickets';

/**
 * `POST /tickets`: exchanges the access token in `Authorization: Bearer` for a stream ticket,
 * 201 `{"ticket","expiresAt"}`. 404 `not_found` when no JWT key is configured; 429
 * `too_many_requests` with `Retry-After` (seconds) past TICKETS_PER_MINUTE.
 */
export function ticketRoutes(router: Router, access: Access): void {
  router.post('/tickets', async (ctx) => {
    try {
      const { ticket, expiresAtMs } = await access.issueTicket(ctx);
      // A ticket is a credential: no cache may keep it.
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 201;
      ctx.body = { ticket, expiresAt: new Date(expiresAtMs).toISOString() };
    } catch (error) {
      if (error instanceof TooManyTicketsError) ctx.set('Retry-After', String(error.retryAfterS));
      throw error;
    }
  });
}

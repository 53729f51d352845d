import type { IncomingMessage, ServerResponse } from 'node:http';
import { SSE_HEADERS } from '../sse/stream';

/**
 * Answers a `HEAD` on a stream route once the request has been validated and authorized as its
 * `GET` would be: 200 with the event-stream headers, no body, and the response ends. Nothing is
 * registered with the hub, so a HEAD opens no stream, counts no client and announces no
 * presence. False for any other method: serve the stream.
 */
export function answeredAsHead(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'HEAD') return false;
  res.writeHead(200, SSE_HEADERS);
  res.end();
  return true;
}

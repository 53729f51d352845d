// Reads GET /api/stats/stream with fetch (the token in the Authorization header, which an
// EventSource cannot send) and @ssehub/client's SSE parser; reconnects with a growing delay.
import { SseParser } from '/client/sse-parser.js';
import { authHeaders } from './api.js';

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15000;

/**
 * Calls `onStats(report)` for every `event: stats`, `onState(state, detail)` with
 * 'connecting' | 'connected' | 'reconnecting' | 'unauthorized'. Returns a function that stops.
 */
export function followStats(onStats, onState) {
  const controller = new AbortController();
  let delayMs = RETRY_MIN_MS;

  const run = async () => {
    while (!controller.signal.aborted) {
      try {
        const response = await fetch('/api/stats/stream', {
          headers: { Accept: 'text/event-stream', ...authHeaders() },
          credentials: 'omit',
          cache: 'no-store',
          signal: controller.signal,
        });
        if (response.status === 401 || response.status === 404) {
          onState('unauthorized', response.status);
          return;
        }
        if (!response.ok || response.body === null) throw new Error(`status ${response.status}`);
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        const parser = new SseParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const message of parser.feed(decoder.decode(value, { stream: true }))) {
            if (message.type !== 'event' || message.event !== 'stats') continue;
            delayMs = RETRY_MIN_MS;
            onState('connected');
            onStats(JSON.parse(message.data));
          }
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        onState('reconnecting', String(error));
      }
      if (controller.signal.aborted) return;
      onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, delayMs * (0.5 + Math.random() / 2)));
      delayMs = Math.min(delayMs * 2, RETRY_MAX_MS);
    }
  };
  onState('connecting');
  void run();
  return () => controller.abort();
}

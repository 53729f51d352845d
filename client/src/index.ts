/**
 * `@ssehub/client`: reads ssehub streams with `fetch` in browsers and Node ≥ 20, with exact
 * delivery per channel, a cursor that outlives the process, reconnects with backoff, and one
 * connection shared between tabs. No runtime dependencies.
 */
export { SseHubClient, type SseHubClientOptions } from './client.js';
export { Subscription, type SubscribeOptions } from './subscription.js';
export type { PublishOptions, PublishResult } from './publish.js';
export type { HistoryEvent } from './transport.js';
export type {
  ChannelMap,
  ConnectionState,
  EventItem,
  EventItemOf,
  GapItem,
  HeadersSource,
  PresenceItem,
  SchemaMap,
  StandardSchemaResult,
  StandardSchemaV1,
  SubscriptionItem,
} from './types.js';
export {
  AbortedError,
  DisconnectedError,
  ForbiddenError,
  RequestError,
  SseHubError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from './errors.js';
export { localStorageCursor, sessionStorageCursor, throttledStore, type CursorStore } from './cursor-store.js';
export { formatCursor, parseCursor } from './cursor.js';
export type { BackoffOptions } from './backoff.js';

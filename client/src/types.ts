/**
 * The public shapes: items a subscription yields, the optional map from channel and event names
 * to payload types, and the Standard Schema (v1) interface that validators implement.
 */

/**
 * Payload types by channel, then by event name: `SseHubClient<{ 'orders.eu': { created: { sku:
 * string } } }>`, an interface, or the `Events` that `npx ssehub types` writes. Keys may be
 * template literal types (`` `prices.${string}` ``) for channel patterns. `item.data` is then
 * typed once `item.channel` and `item.event` are narrowed. The default: any channel, any
 * event, `unknown` data.
 */
export type ChannelMap = Record<string, Record<string, unknown>>;

/** An event of a channel, yielded once, in id order within its channel. */
export interface EventItem<C extends string = string, E extends string = string, D = unknown> {
  readonly kind: 'event';
  readonly channel: C;
  /** The event's id in its channel: a decimal string; `null` on an ephemeral channel (`history: 0`). */
  readonly id: string | null;
  readonly event: E;
  readonly data: D;
}

/**
 * Events of `channel` after `lastEventId` that neither the stream nor the history could supply
 * (history trimmed or lost). Events from `firstAvailableId` on follow. Reload the channel's state.
 */
export interface GapItem<C extends string = string> {
  readonly kind: 'gap';
  readonly channel: C;
  readonly lastEventId: string | null;
  /** The first id available again; null when the channel had no events left. */
  readonly firstAvailableId: string | null;
}

/** A `hub.join` / `hub.leave` of a channel's presence; only yielded with `{ presence: true }`. */
export interface PresenceItem<C extends string = string> {
  readonly kind: 'presence';
  readonly channel: C;
  readonly action: 'join' | 'leave';
  readonly sub: string;
  readonly info: Record<string, unknown> | null;
}

type EventNames<M extends object, C extends string> = C extends keyof M ? keyof M[C] & string : string;
type EventData<M extends object, C extends string, E extends string> = C extends keyof M
  ? E extends keyof M[C]
    ? M[C][E]
    : unknown
  : unknown;

/** The event items of channels `C`, typed by the map `M`. */
export type EventItemOf<M extends object, C extends string> = C extends string
  ? { [E in EventNames<M, C>]: EventItem<C, E, EventData<M, C, E>> }[EventNames<M, C>]
  : never;

/** Everything a subscription to channels `C` may yield. */
export type SubscriptionItem<M extends object = ChannelMap, C extends string = string> =
  | EventItemOf<M, C>
  | GapItem<C>
  | PresenceItem<C>;

/** Connection states, reported to `sub.on('state', …)`. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The Standard Schema v1 interface (standardschema.dev), as zod, valibot and arktype implement it. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string }> };

/** Validators by channel, then event name; an event without one is yielded as it came. */
export type SchemaMap<M extends object = ChannelMap> = {
  readonly [C in keyof M]?: { readonly [E in keyof M[C]]?: StandardSchemaV1<unknown, M[C][E]> };
};

/** Headers for a request: a plain object, or what a function returns (called per connect). */
export type HeadersSource =
  | Record<string, string>
  | (() => Record<string, string> | Promise<Record<string, string>>);

/**
 * Every Redis key and pub/sub channel name the broker uses, in one place. A hub channel's keys
 * share the hash tag `{channel}` so each script touches one Cluster slot; on a Cluster its
 * pub/sub channel carries the same tag (a shard channel in that slot).
 *
 *   <prefix>{<channel>}:id               id counter              (publish.lua)
 *   <prefix>{<channel>}:history          capped list of events   (publish.lua, history.lua)
 *   <prefix>{<channel>}:idem:<hash>      a publish's idempotency record (hash of scope + key)
 *   <prefix>{<channel>}:presence         presence sorted set     (presence-*.lua)
 *   <prefix>{<channel>}:presence:data    presence hash
 *   <prefix>ticket:<ticket>              a stream ticket (its grants, never a token)
 *   <prefix>ticket-rate:<hash>           tickets issued to one subject this minute
 *   <prefix>live:<channel>               classic pub/sub channel
 *   <prefix>{<channel>}:live             shard channel (Cluster)
 *   <prefix>live:#control / <prefix>{#control}:live     the control channel (server API orders)
 *   <prefix>{#control}:revocations       index of revocations, scored by expiry (ms)
 *   <prefix>{#control}:revoked:sub:<sub> latest `before` (ms) of a sub's revocation, with its TTL
 *   <prefix>{#control}:revoked:jti:<jti> a revoked token, with its TTL
 *   <prefix>{#stats}:instances           index of reporting instances, scored by report time (ms)
 *   <prefix>{#stats}:figures:<id>        an instance's figures (JSON), short TTL
 *   <prefix>{#stats}:channels:<id>       an instance's channel connection counts (JSON), short TTL
 *
 * `#control` and `#stats` can never be hub channels ('#' is not allowed in a channel name), so
 * the control channel rides the broker's own subscriptions (restored after every outage) and
 * each group of keys sits in one Cluster slot with its shard channel.
 */
/** The hub-channel name the control channel is subscribed under. */
export const CONTROL_CHANNEL = '#control';
const STATS_TAG = '#stats';
const TAG_OPEN = '{';
const TAG_CLOSE = '}';
const COUNTER_SUFFIX = ':id';
const HISTORY_SUFFIX = ':history';
const IDEMPOTENCY_SUFFIX = ':idem:';
const PRESENCE_SUFFIX = ':presence';
const PRESENCE_DATA_SUFFIX = ':presence:data';
const TICKET_PREFIX = 'ticket:';
const TICKET_RATE_PREFIX = 'ticket-rate:';
const CLASSIC_LIVE_PREFIX = 'live:';
const SHARD_LIVE_SUFFIX = ':live';

/** The names of one deployment (its REDIS_PREFIX) in classic or sharded pub/sub. */
export class RedisKeys {
  constructor(
    readonly prefix: string,
    readonly sharded: boolean,
  ) {}

  /**
   * Id counter and history list of a publish, and its idempotency record when it has a key
   * (KEYS of publish.lua); `idempotencyKey` is the scoped key (idempotency.ts `scopedKey`).
   */
  publishKeys(channel: string, idempotencyKey: string | undefined): string[] {
    const base = this.tagged(channel);
    const keys = [`${base}${COUNTER_SUFFIX}`, `${base}${HISTORY_SUFFIX}`];
    if (idempotencyKey !== undefined) keys.push(`${base}${IDEMPOTENCY_SUFFIX}${idempotencyKey}`);
    return keys;
  }

  history(channel: string): string {
    return `${this.tagged(channel)}${HISTORY_SUFFIX}`;
  }

  /** The presence sorted set and hash (KEYS of presence-sync.lua and presence-read.lua). */
  presenceKeys(channel: string): string[] {
    const base = this.tagged(channel);
    return [`${base}${PRESENCE_SUFFIX}`, `${base}${PRESENCE_DATA_SUFFIX}`];
  }

  ticket(ticket: string): string {
    return `${this.prefix}${TICKET_PREFIX}${ticket}`;
  }

  /** The counter of tickets issued to one subject (`subjectHash`: a hash, never a token). */
  ticketRate(subjectHash: string): string {
    return `${this.prefix}${TICKET_RATE_PREFIX}${subjectHash}`;
  }

  /** The pub/sub channel carrying a hub channel's events, joins and leaves. */
  live(channel: string): string {
    return this.sharded ? `${this.tagged(channel)}${SHARD_LIVE_SUFFIX}` : `${this.prefix}${CLASSIC_LIVE_PREFIX}${channel}`;
  }

  /** The hub channel of a pub/sub channel name made by `live`, or undefined for any other name. */
  channelOfLive(name: string): string | undefined {
    if (!this.sharded) {
      const head = `${this.prefix}${CLASSIC_LIVE_PREFIX}`;
      return name.startsWith(head) ? name.slice(head.length) : undefined;
    }
    const head = `${this.prefix}${TAG_OPEN}`;
    const tail = `${TAG_CLOSE}${SHARD_LIVE_SUFFIX}`;
    if (!name.startsWith(head) || !name.endsWith(tail) || name.length < head.length + tail.length) return undefined;
    return name.slice(head.length, name.length - tail.length);
  }

  /** The id counter of a channel (deleted with its history by the server API). */
  counter(channel: string): string {
    return `${this.tagged(channel)}${COUNTER_SUFFIX}`;
  }

  /** The index of stored revocations (a sorted set of `sub:<sub>` / `jti:<jti>` by expiry). */
  revocations(): string {
    return `${this.tagged(CONTROL_CHANNEL)}:revocations`;
  }

  /** The key of one revocation; `member` is `sub:<sub>` or `jti:<jti>`. */
  revoked(member: string): string {
    return `${this.tagged(CONTROL_CHANNEL)}:revoked:${member}`;
  }

  statsIndex(): string {
    return `${this.tagged(STATS_TAG)}:instances`;
  }

  statsFigures(id: string): string {
    return `${this.tagged(STATS_TAG)}:figures:${id}`;
  }

  statsChannels(id: string): string {
    return `${this.tagged(STATS_TAG)}:channels:${id}`;
  }

  private tagged(channel: string): string {
    return `${this.prefix}${TAG_OPEN}${channel}${TAG_CLOSE}`;
  }
}

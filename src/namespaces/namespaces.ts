import type { ValidateFunction } from 'ajv';
import { matchesChannel, type ChannelPattern, type PatternList } from '../access/patterns';
import { ALWAYS_TRACKED_CHANNEL } from '../presence/tracked-channels';
import type { JsonSchema } from './schema-bundle';

/** A channel list from the environment: a compiled PatternList, or a predicate such as `trackedChannels(…)`. */
export type ChannelPredicate = PatternList | ((channel: string) => boolean);

/**
 * What applies to a channel no namespace matches, and to what a namespace leaves out: the
 * environment's HISTORY_SIZE, HISTORY_TTL_S, MAX_EVENT_BYTES, PUBLIC_CHANNELS and
 * PRESENCE_CHANNELS (pass `trackedChannels(config.presenceChannels)` so `chat` stays tracked).
 */
export interface NamespaceDefaults {
  readonly historySize: number;
  readonly historyTtlS: number;
  readonly maxEventBytes: number;
  readonly publicChannels: ChannelPredicate;
  readonly presenceChannels: ChannelPredicate;
}

/** One listed event of a namespace: its data's schema (self-contained) and its validator, compiled once. */
export interface EventContract {
  readonly name: string;
  readonly schema: JsonSchema;
  readonly validate: ValidateFunction;
}

/** One entry of CHANNELS_CONFIG's `namespaces`, validated. Options it leaves out are undefined. */
export interface Namespace {
  /** Its position in the file (0-based): the first match wins. */
  readonly index: number;
  readonly pattern: ChannelPattern;
  readonly public: boolean | undefined;
  readonly presence: boolean | undefined;
  readonly history: number | undefined;
  readonly historyTtl: number | undefined;
  readonly maxEventBytes: number | undefined;
  readonly strict: boolean;
  readonly description: string | undefined;
  readonly events: ReadonlyMap<string, EventContract>;
}

/**
 * Everything that decides how one channel behaves, resolved once per channel name: from the
 * first namespace whose pattern matches, else from the environment.
 */
export interface ChannelPolicy {
  /** The deciding namespace's index in the file; -1 when none matched (environment only). */
  readonly namespaceIndex: number;
  /** Events kept for replay; 0 = ephemeral. */
  readonly historySize: number;
  /** Seconds the history lives after the last publish; 0 = never expires. */
  readonly historyTtlS: number;
  /** Readable by anyone (still subject to the "every channel is public without a key" rule). */
  readonly public: boolean;
  /** Subscribers are tracked (presence, hub.join / hub.leave); always for `chat`. */
  readonly presence: boolean;
  /** Largest accepted publish body for this channel, inclusive. */
  readonly maxEventBytes: number;
  /** True when `historySize` is 0: nothing stored, no id, 202 on publish. */
  readonly ephemeral: boolean;
  /** Only the listed event names may be published. */
  readonly strict: boolean;
  /** The listed events and their validators; empty = any event name, any data. */
  readonly events: ReadonlyMap<string, EventContract>;
}

// A bound on the cache, not on channels: past it the cache starts over (a policy is cheap to redo).
const CACHE_LIMIT = 10_000;

function matchesPredicate(predicate: ChannelPredicate, channel: string): boolean {
  return typeof predicate === 'function' ? predicate(channel) : predicate.matches(channel, null);
}

/**
 * The loaded namespaces (or none) and the per-channel policy lookup. Create with
 * `loadChannelsConfig` or `Namespaces.none`; immutable afterwards except for its cache.
 */
export class Namespaces {
  private readonly cache = new Map<string, ChannelPolicy>();

  /**
   * @param list the namespaces in file order
   * @param fingerprint first 12 hex digits of the sha256 of the canonical file (with its $refs); null without a file
   * @param source the file's path as given; null without a file
   */
  constructor(
    readonly list: readonly Namespace[],
    readonly defaults: NamespaceDefaults,
    readonly fingerprint: string | null,
    readonly source: string | null,
  ) {}

  /** No CHANNELS_CONFIG: every channel follows the environment, exactly as without namespaces. */
  static none(defaults: NamespaceDefaults): Namespaces {
    return new Namespaces([], defaults, null, null);
  }

  /** The first namespace whose pattern matches `channel` (a valid channel name), or undefined. */
  namespaceOf(channel: string): Namespace | undefined {
    if (this.list.length === 0) return undefined;
    const segments = channel.split('.');
    return this.list.find((namespace) => matchesChannel(namespace.pattern, segments, null));
  }

  /**
   * The policy of `channel` (a valid channel name). Cached per name, so call it per request or
   * per subscription freely; the same object is returned while cached.
   */
  policy(channel: string): ChannelPolicy {
    const cached = this.cache.get(channel);
    if (cached !== undefined) return cached;
    const policy = this.resolve(channel);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(channel, policy);
    return policy;
  }

  /** How many channel policies are cached (for tests and the stats). */
  get cachedPolicies(): number {
    return this.cache.size;
  }

  private resolve(channel: string): ChannelPolicy {
    const { defaults } = this;
    const namespace = this.namespaceOf(channel);
    const historySize = namespace?.history ?? defaults.historySize;
    return Object.freeze({
      namespaceIndex: namespace?.index ?? -1,
      historySize,
      historyTtlS: namespace?.historyTtl ?? defaults.historyTtlS,
      public: namespace?.public ?? matchesPredicate(defaults.publicChannels, channel),
      // API.md: `chat` is always tracked, whatever a namespace says (the chat page shows who is there).
      presence: channel === ALWAYS_TRACKED_CHANNEL || (namespace?.presence ?? matchesPredicate(defaults.presenceChannels, channel)),
      maxEventBytes: namespace?.maxEventBytes ?? defaults.maxEventBytes,
      ephemeral: historySize === 0,
      strict: namespace?.strict ?? false,
      events: namespace?.events ?? NO_EVENTS,
    });
  }
}

const NO_EVENTS: ReadonlyMap<string, EventContract> = new Map();

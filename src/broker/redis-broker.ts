import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import { BrokerUnavailableError } from '../errors';
import { parseStoredEvent } from '../event';
import type {
  Broker,
  EventListener,
  HistoryPage,
  HistoryQuery,
  PublishRequest,
  PublishResult,
} from './broker';
import { IDEMPOTENCY_TTL_MS } from './idempotency';
import { keySlot } from './key-slot';
import type { PresenceListener, PresenceSnapshot, PresenceUpdate } from './presence-types';
import type { ConnectionPurpose, RedisConnection } from './redis-connection';
import { RedisPresence } from './redis-presence';
import { ShardOwners } from './shard-owners';
import { SubscriptionBatch, type SubscriptionTransport } from './subscription-batch';

interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function loadScript(name: string): LuaScript {
  const source = readFileSync(join(__dirname, name), 'utf8');
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const PUBLISH_SCRIPT = loadScript('publish.lua');
const HISTORY_SCRIPT = loadScript('history.lua');
const PRESENCE_SCRIPTS = { presenceSync: loadScript('presence-sync.lua'), presenceRead: loadScript('presence-read.lua') };

/** After a failed renewal of the shard subscriptions, the next try comes this much later. */
const RENEW_RETRY_MS = 500;

/** How often each connection is pinged, and how long a ping may take before it counts as lost. */
const PING_INTERVAL_MS = 1000;
const PING_TIMEOUT_MS = 2000;
/**
 * A ping whose deadline passed while this process was stalled (by more than STALL_MS), or whose
 * connection kept receiving, gets up to this many more deadlines before it counts as lost.
 */
const MAX_PING_EXTENSIONS = 5;
const STALL_MS = 250;

// Replies that mean "the server cannot serve now", as opposed to a bug in a script.
const TRANSIENT_REPLY = /^(NOSCRIPT|LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|MOVED|ASK|NOREPLICAS)/;

export interface RedisBrokerOptions {
  readonly prefix: string;
  readonly historySize: number;
  /** A channel's keys are deleted this long after its last publish; 0 or absent = never. */
  readonly historyTtlS?: number;
  /**
   * Sharded pub/sub (Redis Cluster, Redis >= 7): SPUBLISH / SSUBSCRIBE on a shard channel in the
   * channel's own slot, so an event travels only within its shard. Needs a subscriptions
   * connection made with ioredis' `shardedSubscribers`.
   */
  readonly sharded?: boolean;
  /** Opens a new, not yet connected, connection; called twice (commands, then subscriber). */
  readonly createConnection: (name: string, purpose: ConnectionPurpose) => RedisConnection;
  readonly description: string;
  readonly logger: Logger;
}

/**
 * The Broker on Redis: one command connection and one subscriber connection per process (on a
 * Cluster: one per master, sharded), whatever the number of clients and channels. Keys of a
 * channel share the hash tag `{channel}` so the publish script touches one Cluster slot, and so
 * does its shard channel. After an outage, a failover or a resharding it resubscribes first and
 * only then emits `resubscribed`, so a catch-up read made on that signal misses nothing.
 */
export class RedisBroker extends EventEmitter implements Broker {
  readonly description: string;
  private readonly command: RedisConnection;
  private readonly subscriber: RedisConnection;
  private readonly sharded: boolean;
  private readonly historyTtlMs: string;
  private readonly channels = new Set<string>();
  private readonly batch: SubscriptionBatch;
  /** Sharded only: notices slot owner changes ioredis did not announce. */
  private readonly shardOwners: ShardOwners | undefined;
  private listener: EventListener = () => undefined;
  private subscriberReady = false;
  private wasReady = false;
  private closed = false;
  private readonly watchdog: NodeJS.Timeout;
  private readonly presence: RedisPresence;
  private renewRetry: NodeJS.Timeout | undefined;

  constructor(private readonly options: RedisBrokerOptions) {
    super();
    this.description = options.description;
    this.sharded = options.sharded ?? false;
    this.historyTtlMs = String((options.historyTtlS ?? 0) * 1000);
    this.command = options.createConnection('ssehub-command', 'commands');
    this.subscriber = options.createConnection('ssehub-subscriber', 'subscriptions');
    this.presence = new RedisPresence({
      prefix: options.prefix,
      liveChannelOf: (channel) => this.liveName(channel),
      publishCommand: this.sharded ? 'SPUBLISH' : 'PUBLISH',
      run: (script, keys, args) => this.runScript(PRESENCE_SCRIPTS[script], keys, args),
    });
    for (const connection of [this.command, this.subscriber]) {
      // Without a listener an `error` event would crash the process; outages are reported by state.
      connection.on('error', (error: Error) => options.logger.debug({ err: error }, 'redis connection error'));
      connection.on('close', () => this.onConnectionLost());
    }
    this.command.on('ready', () => this.updateReadiness());
    this.batch = new SubscriptionBatch(this.transport(), (channel) => this.channels.has(channel));
    const subscriber = this.subscriber;
    this.shardOwners =
      this.sharded && subscriber instanceof Cluster ? new ShardOwners((slot) => subscriber.slots[slot]?.[0]) : undefined;
    this.subscriber.on('ready', () => void this.restoreSubscriptions());
    if (this.sharded) {
      this.subscriber.on('smessage', (name: string, message: string) => this.onMessage(name, message));
      // ioredis' sharded subscribers were rebuilt (a failover, a slot moved, a subscriber
      // connection replaced) and re-sent their SSUBSCRIBEs without waiting for the answers.
      this.subscriber.on('subscribersReady', () => void this.renewShardSubscriptions());
    } else {
      this.subscriber.on('message', (name: string, message: string) => this.onMessage(name, message));
    }
    // A Redis that vanishes without closing the socket (a partition) sends no RST: without pings
    // the outage would go unnoticed until TCP gives up, long after /readyz should say 503.
    this.watchdog = setInterval(() => {
      for (const connection of [this.command, this.subscriber]) this.ping(connection);
      if (this.subscriberReady && this.shardOwners?.changed()) void this.renewShardSubscriptions();
    }, PING_INTERVAL_MS);
    this.watchdog.unref();
  }

  private ping(connection: RedisConnection): void {
    if (connection.status !== 'ready') return;
    let answered = false;
    let bytesReadBefore = bytesRead(connection);
    let deadline = performance.now() + PING_TIMEOUT_MS;
    let extensions = 0;
    const judge = (): void => {
      // Judged after the loop's next I/O phase: when this process itself was blocked (a busy
      // CPU, a long GC), the answer may be waiting in the socket, and timers run before reads.
      setImmediate(() => {
        if (answered) return;
        const now = performance.now();
        const bytesReadNow = bytesRead(connection);
        // Not a lost Redis, so far: this process could not run when the deadline passed (the
        // ping itself may have gone out late, auto-pipelined), or the connection is still
        // receiving (a backlog of messages queued ahead of the answer).
        const excused = now - deadline > STALL_MS || bytesReadNow > bytesReadBefore;
        if (excused && extensions < MAX_PING_EXTENSIONS) {
          extensions++;
          bytesReadBefore = bytesReadNow;
          deadline = now + PING_TIMEOUT_MS;
          timer = setTimeout(judge, PING_TIMEOUT_MS);
          return;
        }
        this.options.logger.warn('redis did not answer a ping in time; reconnecting');
        connection.disconnect(true);
      });
    };
    let timer = setTimeout(judge, PING_TIMEOUT_MS);
    const settle = (): void => {
      answered = true;
      clearTimeout(timer);
    };
    connection.ping().then(settle, settle);
  }

  get ready(): boolean {
    return !this.closed && this.command.status === 'ready' && this.subscriberReady;
  }

  /**
   * Connects both connections and resolves when ready. Network errors are retried until
   * `timeoutMs`; errors that retrying cannot fix (authentication) reject at once.
   */
  async connect(timeoutMs = 30_000): Promise<void> {
    let cleanup = (): void => undefined;
    const becameReady = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`could not reach Redis within ${timeoutMs} ms; check REDIS_URL (or REDIS_SENTINELS / REDIS_CLUSTER_NODES)`)),
        timeoutMs,
      );
      const check = (): void => {
        if (this.ready) resolve();
      };
      const fatal = (error: Error): void => {
        if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(error.message)) {
          reject(new Error(`Redis refused the credentials; check REDIS_URL (${error.message.split('\n')[0] ?? ''})`));
        }
      };
      this.on('resubscribed', check);
      this.command.on('error', fatal);
      this.subscriber.on('error', fatal);
      cleanup = () => {
        clearTimeout(timer);
        this.off('resubscribed', check);
        this.command.off('error', fatal);
        this.subscriber.off('error', fatal);
      };
    });
    const connecting = Promise.all([this.command.connect(), this.subscriber.connect()]).catch(() => undefined);
    try {
      // Awaited together so a fatal error rejects at once, not after the connects settle.
      await Promise.all([becameReady, connecting]);
    } finally {
      cleanup();
    }
  }

  async publish(request: PublishRequest): Promise<PublishResult> {
    const keys = this.keysOf(request.channel);
    const reply = (await this.runScript(
      PUBLISH_SCRIPT,
      [keys.counter, keys.history, `${keys.idempotency}${request.idempotencyKey ?? ''}`],
      [
        request.event,
        request.dataJson,
        String(this.options.historySize),
        this.liveName(request.channel),
        String(IDEMPOTENCY_TTL_MS),
        request.idempotencyKey === undefined ? '0' : '1',
        String(Date.now()),
        this.historyTtlMs,
        this.sharded ? '1' : '0',
      ],
    )) as [number, string];
    const [stored, text] = reply;
    if (stored === 1) return { id: Number(text), channel: request.channel, event: request.event, duplicate: false };
    const [id = '0', event = request.event] = text.split(' ');
    return { id: Number(id), channel: request.channel, event, duplicate: true };
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    const reply = (await this.runScript(
      HISTORY_SCRIPT,
      [this.keysOf(channel).history],
      [query.after === undefined ? '' : String(query.after), String(query.limit)],
    )) as [] | [string, string, string[]];
    if (reply.length === 0) return { events: [], firstId: null, lastId: null };
    const [firstId, lastId, entries] = reply;
    return { events: entries.map(parseStoredEvent), firstId: Number(firstId), lastId: Number(lastId) };
  }

  async subscribe(channel: string): Promise<void> {
    if (!this.ready) throw new BrokerUnavailableError();
    if (!this.channels.has(channel)) {
      this.channels.add(channel);
      this.shardOwners?.add(channel);
    }
    try {
      await this.batch.subscribe(channel);
    } catch (error) {
      this.forget(channel);
      throw error;
    }
  }

  unsubscribe(channel: string): Promise<void> {
    if (this.forget(channel) && this.subscriberReady) this.batch.unsubscribe(channel);
    return Promise.resolve();
  }

  private forget(channel: string): boolean {
    if (!this.channels.delete(channel)) return false;
    this.shardOwners?.delete(channel);
    return true;
  }

  async saveTicket(ticket: string, value: string, ttlMs: number): Promise<void> {
    await this.runCommand(() => this.command.set(`${this.options.prefix}ticket:${ticket}`, value, 'PX', ttlMs));
  }

  readTicket(ticket: string): Promise<string | null> {
    return this.runCommand(() => this.command.get(`${this.options.prefix}ticket:${ticket}`));
  }

  onEvent(listener: EventListener): void {
    this.listener = listener;
  }

  writePresence(updates: readonly PresenceUpdate[], ttlMs: number): Promise<void> {
    return this.presence.write(updates, ttlMs);
  }

  readPresence(channel: string): Promise<PresenceSnapshot> {
    return this.presence.read(channel);
  }

  onPresence(listener: PresenceListener): void {
    this.presence.onPresence(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    clearTimeout(this.renewRetry);
    await Promise.all(
      [this.command, this.subscriber].map((connection) =>
        connection.quit().then(
          () => undefined,
          () => connection.disconnect(),
        ),
      ),
    );
  }

  private keysOf(channel: string): { counter: string; history: string; idempotency: string } {
    const base = `${this.options.prefix}{${channel}}`;
    return { counter: `${base}:id`, history: `${base}:history`, idempotency: `${base}:idem:` };
  }

  private async runScript(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    // Publishing and reading history need only the command connection, not the subscriber.
    if (this.closed || this.command.status !== 'ready') throw new BrokerUnavailableError();
    try {
      return await this.command.evalsha(script.sha, keys.length, ...keys, ...args).catch((error: Error) => {
        // Loading by EVAL caches the script on that server; later calls go by hash again.
        if (error.message.startsWith('NOSCRIPT')) return this.command.eval(script.source, keys.length, ...keys, ...args);
        throw error;
      });
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof Error && error.name === 'ReplyError' && !TRANSIENT_REPLY.test(message)) throw error;
      throw new BrokerUnavailableError(`the event broker is unavailable (${message}); retry later`);
    }
  }

  /** The pub/sub channel of a hub channel: a shard channel in the channel's slot when sharded. */
  private liveName(channel: string): string {
    return this.sharded ? `${this.options.prefix}{${channel}}:live` : `${this.options.prefix}live:${channel}`;
  }

  private channelOf(name: string): string | undefined {
    const { prefix } = this.options;
    if (!name.startsWith(prefix)) return undefined;
    if (!this.sharded) return name.startsWith('live:', prefix.length) ? name.slice(prefix.length + 5) : undefined;
    return name.endsWith('}:live') && name[prefix.length] === '{' ? name.slice(prefix.length + 1, -6) : undefined;
  }

  private transport(): SubscriptionTransport {
    const names = (channels: string[]): string[] => channels.map((channel) => this.liveName(channel));
    if (!this.sharded) {
      return {
        groupOf: () => 0,
        subscribe: (channels) => this.subscriber.subscribe(...names(channels)),
        unsubscribe: (channels) => this.subscriber.unsubscribe(...names(channels)),
      };
    }
    return {
      // One SSUBSCRIBE may only name channels of one slot; ioredis sends it to that slot's master.
      groupOf: (channel) => keySlot(channel),
      subscribe: (channels) => this.subscriber.ssubscribe(...names(channels)),
      unsubscribe: (channels) => this.subscriber.sunsubscribe(...names(channels)),
    };
  }

  /** Runs a plain command on the command connection; an outage becomes BrokerUnavailableError. */
  private async runCommand<T>(command: () => Promise<T>): Promise<T> {
    if (this.closed || this.command.status !== 'ready') throw new BrokerUnavailableError();
    try {
      return await command();
    } catch (error) {
      throw new BrokerUnavailableError(`the event broker is unavailable (${(error as Error).message}); retry later`);
    }
  }

  private onMessage(name: string, message: string): void {
    const channel = this.channelOf(name);
    if (channel === undefined || !this.channels.has(channel)) return;
    const space = message.indexOf(' ');
    try {
      if (this.presence.takeSignal(channel, message)) return;
      this.listener(channel, parseStoredEvent(message.slice(space + 1)), Number(message.slice(0, space)));
    } catch (error) {
      // A listener's failure must never break the subscriber connection's parser.
      this.options.logger.error({ err: error, channel }, 'event listener failed');
    }
  }

  private async restoreSubscriptions(): Promise<void> {
    // Sharded: ioredis kept its own list of shard channels across the reconnect; renewing
    // (unsubscribe + subscribe per slot) confirms each one without listing it twice there.
    const failed = await this.batch.send(this.channels, 'subscribe', this.sharded);
    if (failed.length > 0 && !this.sharded) {
      // The connection dropped again; its next `ready` retries.
      this.options.logger.warn({ channels: failed.length }, 'resubscribe failed');
      return;
    }
    this.subscriberReady = true;
    this.updateReadiness();
    // On a Cluster, a shard that is down (its failover under way) is retried on its own.
    if (failed.length > 0) this.retryRenewal(failed);
  }

  /**
   * After ioredis rebuilt its sharded subscribers, confirms every shard subscription, then has the
   * hub catch up from history: events published while a slot was between owners (a failover, a
   * migration, a replaced subscriber connection) reached no subscriber of ours.
   */
  private async renewShardSubscriptions(): Promise<void> {
    // Nothing to renew or catch up (this also skips the announcements made while connecting).
    await this.renew(this.channels);
  }

  private async renew(channels: Iterable<string>): Promise<void> {
    clearTimeout(this.renewRetry);
    if (!this.subscriberReady || this.closed || this.channels.size === 0) return;
    const wanted = [...channels].filter((channel) => this.channels.has(channel));
    const failed = await this.batch.send(wanted, 'subscribe', true);
    this.options.logger.info(
      { channels: wanted.length, failed: failed.length },
      'cluster topology changed: shard subscriptions renewed, catching up',
    );
    // Channels whose shard answered catch up now; those of a shard still failing over, later.
    if (failed.length < wanted.length && this.ready) this.emit('resubscribed');
    if (failed.length > 0) this.retryRenewal(failed);
  }

  /**
   * A renewal failed for some shards (a master down, or ioredis' slot map stale: MOVED). ioredis
   * usually rebuilds and says `subscribersReady` again; retry anyway, so a catch-up is never lost.
   */
  private retryRenewal(failed: string[]): void {
    this.options.logger.warn({ channels: failed.length }, 'renewing shard subscriptions failed for some channels; retrying');
    this.renewRetry = setTimeout(() => void this.renew(failed), RENEW_RETRY_MS);
    this.renewRetry.unref();
  }

  private onConnectionLost(): void {
    if (this.subscriber.status !== 'ready') {
      this.subscriberReady = false;
      this.batch.failPending(new BrokerUnavailableError('the subscriber connection was lost'));
    }
    this.updateReadiness();
  }

  private updateReadiness(): void {
    const ready = this.ready;
    if (ready === this.wasReady) return;
    this.wasReady = ready;
    if (this.closed) return;
    this.emit(ready ? 'resubscribed' : 'down');
  }
}

/** Bytes received so far on a standalone or Sentinel connection's socket (0 for a Cluster). */
function bytesRead(connection: RedisConnection): number {
  return (connection as { stream?: { bytesRead?: number } }).stream?.bytesRead ?? 0;
}

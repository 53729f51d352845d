import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { BrokerUnavailableError } from '../../errors';
import { parseStoredEvent } from '../../event';
import type {
  BrokerStatus,
  EphemeralListener,
  EventBroker,
  EventListener,
  HistoryPage,
  HistoryQuery,
  PublishRequest,
  PublishResult,
} from '../broker';
import { pageOf } from '../history-page';
import { IDEMPOTENCY_TTL_MS, IdempotencyKeyReusedError, scopedKey } from '../idempotency';
import type { RedisConnection } from './connection';
import { BrokerHealth } from './health';
import type { RedisKeys } from './keys';
import { PingWatchdog } from './ping-watchdog';
import { ReadGate } from './read-gate';
import type { PubSub } from './pubsub';
import { ClassicPubSub } from './pubsub-classic';
import { ShardedPubSub } from './pubsub-sharded';
import type { CommandRunner } from './scripts';

export interface RedisEventBrokerOptions {
  /** Not yet connected; `connect()` connects them. Closed by `close()`. */
  readonly command: RedisConnection;
  readonly subscriber: RedisConnection;
  readonly commands: CommandRunner;
  readonly keys: RedisKeys;
  readonly historySize: number;
  /** Most bytes of event JSON one history read returns (at least one event); HISTORY_PAGE_BYTES. */
  readonly historyPageBytes: number;
  /** A channel's keys are deleted this long after its last publish; 0 or absent = never. */
  readonly historyTtlS?: number;
  readonly description: string;
  readonly logger: Logger;
  /**
   * Takes a message of a subscribed channel that is not an event (a presence join or leave,
   * which travels on the same pub/sub channel); returns false for an event.
   */
  readonly takeSignal?: (channel: string, message: string) => boolean;
}

/**
 * The EventBroker on Redis: one command connection and one subscriber connection per process
 * (on a Cluster: one per master, sharded), whatever the number of clients and channels. After an
 * outage, a failover or a resharding it resubscribes first and only then emits `resubscribed`,
 * so a catch-up read made on that signal misses nothing.
 */
export class RedisEventBroker extends EventEmitter implements EventBroker {
  readonly description: string;
  private readonly health: BrokerHealth;
  private readonly pubsub: PubSub;
  private readonly watchdog: PingWatchdog;
  private readonly historyTtlMs: string;
  /** Publish arguments that are the same for every call, as text once (not per publish). */
  private readonly historySizeText: string;
  private readonly shardedFlag: string;
  private listener: EventListener = () => undefined;
  private ephemeralListener: EphemeralListener = () => undefined;
  /** Newest-id reads (a channel's first stream): batched while the previous batch is in flight. */
  private readonly newestReads = new ReadGate();

  constructor(private readonly options: RedisEventBrokerOptions) {
    super();
    this.description = options.description;
    this.historyTtlMs = String((options.historyTtlS ?? 0) * 1000);
    this.historySizeText = String(options.historySize);
    this.shardedFlag = options.keys.sharded ? '1' : '0';
    const { command, subscriber, keys, logger } = options;
    this.health = new BrokerHealth(this, {
      commandReady: () => command.status === 'ready',
      subscriptionsReady: () => this.pubsub.ready,
    });
    const update = (): void => this.health.update();
    const pubsubOptions = { subscriber, keys, logger, onChange: update, onCatchUp: () => this.health.catchUp() };
    this.pubsub = keys.sharded ? new ShardedPubSub(pubsubOptions) : new ClassicPubSub(pubsubOptions);
    this.pubsub.onMessage((channel, message) => this.receive(channel, message));
    for (const connection of [command, subscriber]) {
      // Without a listener an `error` event would crash the process; outages are reported by state.
      connection.on('error', (error: Error) => logger.debug({ err: error }, 'redis connection error'));
    }
    command.on('close', update);
    command.on('ready', update);
    subscriber.on('close', () => this.pubsub.connectionLost());
    this.watchdog = new PingWatchdog({
      targets: () => [{ label: 'command', connection: command, lost: () => command.disconnect(true) }, ...this.pubsub.pingTargets()],
      onTick: () => this.pubsub.tick(),
      logger,
    });
    this.watchdog.start();
  }

  get status(): BrokerStatus {
    return this.health.status;
  }

  get ready(): boolean {
    return this.health.status === 'ready';
  }

  /**
   * Connects both connections and resolves when ready. Network errors are retried until
   * `timeoutMs`; errors that retrying cannot fix (authentication) reject at once.
   */
  async connect(timeoutMs = 30_000): Promise<void> {
    const { command, subscriber } = this.options;
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
      command.on('error', fatal);
      subscriber.on('error', fatal);
      cleanup = () => {
        clearTimeout(timer);
        this.off('resubscribed', check);
        command.off('error', fatal);
        subscriber.off('error', fatal);
      };
    });
    const connecting = Promise.all([command.connect(), subscriber.connect()]).catch(() => undefined);
    try {
      // Awaited together so a fatal error rejects at once, not after the connects settle.
      await Promise.all([becameReady, connecting]);
    } finally {
      cleanup();
    }
  }

  async publish(request: PublishRequest): Promise<PublishResult> {
    const { keys } = this.options;
    const key = request.idempotencyKey === undefined ? undefined : scopedKey(request.idempotencyScope, request.idempotencyKey);
    const args = [
      request.event,
      request.dataJson,
      request.historySize === undefined ? this.historySizeText : String(request.historySize),
      keys.live(request.channel),
      String(Date.now()),
      request.historyTtlS === undefined ? this.historyTtlMs : String(request.historyTtlS * 1000),
      this.shardedFlag,
    ];
    if (key !== undefined) args.push(IDEMPOTENCY_TTL_TEXT);
    const [stored, text] = (await this.options.commands.script('publish', keys.publishKeys(request.channel, key), args)) as [number, string];
    if (stored === 1) return { id: Number(text), channel: request.channel, event: request.event, duplicate: false };
    if (stored === 2) throw new IdempotencyKeyReusedError();
    const [id = '0', event = request.event] = text.split(' ');
    return { id: Number(id), channel: request.channel, event, duplicate: true };
  }

  async publishEphemeral(channel: string, event: string, dataJson: string): Promise<void> {
    const { keys } = this.options;
    const message = encodeEphemeralMessage(Date.now(), event, dataJson);
    // On the channel's own pub/sub channel, so it arrives in order with the stored events.
    await this.options.commands.run((connection) => connection.call(keys.sharded ? 'SPUBLISH' : 'PUBLISH', keys.live(channel), message));
  }

  history(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    if (query.after === undefined && query.limit === 1) return this.newestReads.run(() => this.readHistory(channel, query));
    return this.readHistory(channel, query);
  }

  private async readHistory(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    const reply = (await this.options.commands.script(
      'history',
      [this.options.keys.history(channel)],
      [query.after === undefined ? '' : String(query.after), String(query.limit), String(this.options.historyPageBytes)],
    )) as [] | [string, string, string[]];
    if (reply.length === 0) return pageOf([], null, null, query);
    const [firstId, lastId, entries] = reply;
    return pageOf(entries.map(parseStoredEvent), Number(firstId), Number(lastId), query);
  }

  async subscribe(channel: string): Promise<void> {
    if (!this.ready) throw new BrokerUnavailableError();
    await this.pubsub.subscribe(channel);
  }

  unsubscribe(channel: string): Promise<void> {
    this.pubsub.unsubscribe(channel);
    return Promise.resolve();
  }

  onEvent(listener: EventListener): void {
    this.listener = listener;
  }

  onEphemeral(listener: EphemeralListener): void {
    this.ephemeralListener = listener;
  }

  /** Stops the watchdog and quits both connections. Never rejects. */
  async close(): Promise<void> {
    if (this.health.status === 'closed') return;
    this.health.close();
    this.watchdog.stop();
    this.pubsub.close();
    await Promise.all(
      [this.options.command, this.options.subscriber].map((connection) =>
        connection.quit().then(
          () => undefined,
          () => connection.disconnect(),
        ),
      ),
    );
  }

  /** A message is `<publishedAtMs> <stored event JSON>`, an ephemeral event, or a presence signal. */
  private receive(channel: string, message: string): void {
    if (this.options.takeSignal?.(channel, message) === true) return;
    if (message.startsWith(EPHEMERAL_MARK)) {
      const ephemeral = parseEphemeralMessage(message);
      if (ephemeral !== null) this.ephemeralListener(channel, ephemeral.event, ephemeral.dataJson, ephemeral.publishedAtMs);
      return;
    }
    const space = message.indexOf(' ');
    this.listener(channel, parseStoredEvent(message.slice(space + 1)), Number(message.slice(0, space)));
  }
}

const IDEMPOTENCY_TTL_TEXT = String(IDEMPOTENCY_TTL_MS);

// A stored event's message starts with a digit and a presence signal with `join ` / `leave `.
const EPHEMERAL_MARK = '~';
const EPHEMERAL_MESSAGE = /^~([0-9]+) \{"event":"([^"]+)","data":/;

/** `~<publishedAtMs> {"event":"…","data":…}`: an ephemeral event on the channel's pub/sub channel. */
export function encodeEphemeralMessage(publishedAtMs: number, event: string, dataJson: string): string {
  return `${EPHEMERAL_MARK}${publishedAtMs} {"event":"${event}","data":${dataJson}}`;
}

/** Reads what encodeEphemeralMessage wrote; null for anything else. */
export function parseEphemeralMessage(message: string): { publishedAtMs: number; event: string; dataJson: string } | null {
  const head = EPHEMERAL_MESSAGE.exec(message);
  if (head === null || !message.endsWith('}')) return null;
  return { publishedAtMs: Number(head[1]), event: head[2] as string, dataJson: message.slice(head[0].length, -1) };
}

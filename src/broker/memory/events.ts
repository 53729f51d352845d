import { EventEmitter } from 'node:events';
import { parseStoredEvent, serializeStoredEvent, type StoredEvent } from '../../event';
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
import { DEFAULT_HISTORY_PAGE_BYTES, pageOf } from '../history-page';
import { IDEMPOTENCY_TTL_MS, IdempotencyKeyReusedError, publishFingerprint, scopedKey } from '../idempotency';

interface ChannelLog {
  nextId: number;
  events: StoredEvent[];
  /** When the channel's history and counter are forgotten (ms since the epoch); renewed by each publish. */
  expiresAt: number;
}

/** The sweep of expired channels runs this often at most (and at least once per TTL). */
const MAX_SWEEP_INTERVAL_MS = 60_000;

interface RememberedPublish {
  readonly result: PublishResult;
  /** publishFingerprint of the first publish's event name and data. */
  readonly fingerprint: string;
  readonly expiresAt: number;
}

/** Microseconds since the epoch: where a channel's ids start (see API.md, "ids"). */
export function nowMicros(): number {
  return Date.now() * 1000;
}

/**
 * The in-process EventBroker: the same ids, capped history, idempotency and fan-out as
 * RedisEventBroker, for a single instance. History is lost when the process exits.
 */
export class MemoryEventBroker extends EventEmitter implements EventBroker {
  readonly description = 'in-process (one instance only; history is lost on restart)';
  private closed = false;
  private readonly logs = new Map<string, ChannelLog>();
  private readonly subscribed = new Set<string>();
  // Insertion order is expiry order, so expired entries are always at the front.
  private readonly remembered = new Map<string, RememberedPublish>();
  private listener: EventListener = () => undefined;
  private ephemeralListener: EphemeralListener = () => undefined;
  private readonly historyTtlMs: number;
  private readonly sweeper: NodeJS.Timeout | undefined;

  /**
   * `historyTtlS`: a channel's history and counter are forgotten this long after its last
   * publish (0 = never). Expired channels are dropped when next touched and by a coarse sweep,
   * so the per-event path holds no timer. `historyPageBytes`: most bytes of event JSON one
   * history read returns (HISTORY_PAGE_BYTES).
   */
  constructor(
    private readonly historySize: number,
    historyTtlS = 0,
    private readonly historyPageBytes = DEFAULT_HISTORY_PAGE_BYTES,
  ) {
    super();
    this.historyTtlMs = historyTtlS * 1000;
    if (this.historyTtlMs > 0) {
      this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(this.historyTtlMs, MAX_SWEEP_INTERVAL_MS));
      this.sweeper.unref();
    }
  }

  get status(): BrokerStatus {
    return this.closed ? 'closed' : 'ready';
  }

  get ready(): boolean {
    return !this.closed;
  }

  /** True while the channel's events are delivered (the presence twin announces on these only). */
  isSubscribed(channel: string): boolean {
    return this.subscribed.has(channel);
  }

  publish(request: PublishRequest): Promise<PublishResult> {
    const now = Date.now();
    this.forgetExpired(now);
    const rememberKey =
      request.idempotencyKey === undefined
        ? undefined
        : `${request.channel}\n${scopedKey(request.idempotencyScope, request.idempotencyKey)}`;
    const fingerprint = rememberKey === undefined ? '' : publishFingerprint(request.event, request.dataJson);
    const earlier = rememberKey === undefined ? undefined : this.remembered.get(rememberKey);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) return Promise.reject(new IdempotencyKeyReusedError());
      return Promise.resolve({ ...earlier.result, duplicate: true });
    }

    const log = this.logFor(request.channel, now);
    const ttlMs = request.historyTtlS === undefined ? this.historyTtlMs : request.historyTtlS * 1000;
    log.expiresAt = ttlMs > 0 ? now + ttlMs : Infinity;
    const id = log.nextId++;
    const event = parseStoredEvent(serializeStoredEvent(id, request.event, request.dataJson));
    log.events.push(event);
    const historySize = request.historySize ?? this.historySize;
    if (log.events.length > historySize) log.events.splice(0, log.events.length - historySize);
    const result: PublishResult = { id, channel: request.channel, event: request.event, duplicate: false };
    if (rememberKey !== undefined) this.remembered.set(rememberKey, { result, fingerprint, expiresAt: now + IDEMPOTENCY_TTL_MS });
    if (this.subscribed.has(request.channel)) this.listener(request.channel, event, now);
    return Promise.resolve(result);
  }

  publishEphemeral(channel: string, event: string, dataJson: string): Promise<void> {
    if (this.subscribed.has(channel)) this.ephemeralListener(channel, event, dataJson, Date.now());
    return Promise.resolve();
  }

  history(channel: string, query: HistoryQuery): Promise<HistoryPage> {
    const events = this.liveLog(channel, Date.now())?.events ?? [];
    const first = events[0];
    const last = events[events.length - 1];
    if (!first || !last) return Promise.resolve(pageOf([], null, null, query));
    const start =
      query.after === undefined
        ? Math.max(0, events.length - query.limit)
        : Math.max(0, Math.min(events.length, query.after - first.id + 1));
    const end = Math.min(events.length, start + query.limit);
    // As history.lua: cut by bytes, keeping the events nearest the start of the read.
    let from = start;
    let to = end;
    let bytes = 0;
    if (query.after === undefined) {
      for (from = end; from > start; from--) {
        const size = Buffer.byteLength((events[from - 1] as StoredEvent).raw);
        if (from < end && bytes + size > this.historyPageBytes) break;
        bytes += size;
      }
    } else {
      for (to = start; to < end; to++) {
        const size = Buffer.byteLength((events[to] as StoredEvent).raw);
        if (to > start && bytes + size > this.historyPageBytes) break;
        bytes += size;
      }
    }
    return Promise.resolve(pageOf(events.slice(from, to), first.id, last.id, query));
  }

  subscribe(channel: string): Promise<void> {
    this.subscribed.add(channel);
    return Promise.resolve();
  }

  unsubscribe(channel: string): Promise<void> {
    this.subscribed.delete(channel);
    return Promise.resolve();
  }

  onEvent(listener: EventListener): void {
    this.listener = listener;
  }

  onEphemeral(listener: EphemeralListener): void {
    this.ephemeralListener = listener;
  }

  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.subscribed.clear();
    return Promise.resolve();
  }

  /**
   * Deletes the channel's history and id counter (the server API's history removal): the next
   * publish starts it again at the time in microseconds, so resumers get `hub.gap`.
   */
  deleteHistory(channel: string): Promise<void> {
    this.logs.delete(channel);
    return Promise.resolve();
  }

  private logFor(channel: string, now: number): ChannelLog {
    let log = this.liveLog(channel, now);
    if (!log) {
      // As in Redis, an expired channel starts again at the time in microseconds.
      log = { nextId: nowMicros(), events: [], expiresAt: Infinity };
      this.logs.set(channel, log);
    }
    return log;
  }

  /** The channel's log unless it expired (then it is dropped, as Redis drops the keys). */
  private liveLog(channel: string, now: number): ChannelLog | undefined {
    const log = this.logs.get(channel);
    if (log && log.expiresAt <= now) {
      this.logs.delete(channel);
      return undefined;
    }
    return log;
  }

  private sweep(now: number): void {
    for (const [channel, log] of this.logs) if (log.expiresAt <= now) this.logs.delete(channel);
  }

  private forgetExpired(now: number): void {
    for (const [key, entry] of this.remembered) {
      if (entry.expiresAt > now) return;
      this.remembered.delete(key);
    }
  }
}

import type { PassThrough } from 'node:stream';
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker';
import { BrokerUnavailableError } from '../errors';
import type { StoredEvent } from '../event';
import type { Metrics } from '../metrics';
import { encodeComment, encodePosition, encodeRetry, encodeUnidentifiedEvent } from '../sse/encode';
import { HubChannel, type ChannelContext } from './channel';
import { HubClient, type StartPosition } from './client';
import { sortChannels } from './cursor';
import { Deadlines } from './deadlines';
import { fanOut } from './fan-out';
import { replayThenLive } from './replay';
import { ANONYMOUS_OWNER, type StreamOwner } from './stream-owner';

export interface HubOptions {
  readonly broker: Broker;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly historySize: number;
  readonly heartbeatMs: number;
  readonly retryMs: number;
  readonly maxClients: number;
  readonly clientBufferBytes: number;
  /**
   * The longest a flush waits for more events when flushes come back to back (default 50 ms, so a
   * stalled process cannot add more); 0 flushes on the next turn always.
   */
  readonly maxFlushWaitMs?: number;
}

/** One channel a stream asks for, and where it resumes (null = live only). */
export interface ChannelRequest {
  readonly name: string;
  readonly resumePoint: number | null;
}

/** What a stream request asks of the hub. */
export interface ConnectRequest {
  /** Validated, distinct channel names. */
  readonly channels: readonly ChannelRequest[];
  /** True for `GET /streams`: envelope data and the cursor as each event's id. */
  readonly multi: boolean;
  readonly stream: PassThrough;
  /** Destroys the client's connection (used to drop a slow client at once). */
  readonly abortConnection: () => void;
  /** When the credential that authorized the stream expires: `hub.reauth` before, the end at it. */
  readonly expiresAtMs?: number | null;
  /** Who opened the stream (its credential's claims), so the server API can end it. */
  readonly owner?: StreamOwner;
}

const HEARTBEAT = encodeComment('heartbeat');
/** A shorter wait than this is not worth a timer: the flush comes on the next turn. */
const MIN_FLUSH_WAIT_MS = 1;
const DEFAULT_MAX_FLUSH_WAIT_MS = 50;
/** `hub.reauth` comes this long before expiry, or at half the credential's life when shorter. */
const REAUTH_LEAD_MS = 60_000;

/**
 * The registry of streams: connect and disconnect, channels ↔ streams, limits, heartbeats and
 * credential expiry. Each channel keeps its own ordered delivery (HubChannel); the events of one
 * event-loop turn are written to each stream as one buffer (fanOut); a stream that resumes
 * replays each channel's history before going live on it (replayThenLive). A slow stream is
 * dropped, never awaited.
 */
export class Hub {
  private readonly channels = new Map<string, HubChannel>();
  private readonly clients = new Set<HubClient>();
  private readonly owners = new WeakMap<HubClient, StreamOwner>();
  private readonly dirty = new Set<HubChannel>();
  private flushScheduled = false;
  /** How long the last flush took, and when it ended (performance.now()). */
  private lastFlushCostMs = 0;
  private lastFlushEndMs = 0;
  private pendingConnects = 0;
  private readonly heartbeatTimer: NodeJS.Timeout;
  private readonly deadlines = new Deadlines();
  private readonly retryFrame: Buffer;
  /** Shared by every channel (a channel per user means many of them). */
  private readonly channelContext: ChannelContext;

  constructor(private readonly options: HubOptions) {
    this.retryFrame = encodeRetry(options.retryMs);
    this.channelContext = { ...options, onBatch: (channel) => this.markDirty(channel) };
    options.broker.onEvent((channel, event, publishedAtMs) => this.receive(channel, event, publishedAtMs));
    options.broker.on('down', () => {
      for (const channel of this.channels.values()) channel.needsCatchUp = true;
    });
    options.broker.on('resubscribed', () => {
      for (const channel of this.channels.values()) channel.catchUpNow();
    });
    // One timer for the whole hub, checking streams rather than keeping a timer each.
    const tickMs = Math.max(5, Math.floor(options.heartbeatMs / 10));
    this.heartbeatTimer = setInterval(() => this.sendHeartbeats(), tickMs);
    this.heartbeatTimer.unref();
  }

  /** Open streams, plus connects still being set up. */
  get clientCount(): number {
    return this.clients.size + this.pendingConnects;
  }

  /** Channels with streams (each holds one subscription). */
  get channelCount(): number {
    return this.channels.size;
  }

  /** True when a new stream can be served now (below MAX_CLIENTS, broker ready). */
  get acceptsClients(): boolean {
    return this.clientCount < this.options.maxClients && this.options.broker.ready;
  }

  /**
   * Registers a stream on its channels. Resolves once it is registered for live events on every
   * one, with the retry field and its start position already written, so every event published
   * after the caller sends the headers reaches it; replay continues in the background. Rejects
   * with BrokerUnavailableError when a channel cannot be subscribed.
   */
  async connect(request: ConnectRequest): Promise<HubClient> {
    const names = sortChannels(request.channels.map((channel) => channel.name));
    const resumePoints = new Map(request.channels.map((channel) => [channel.name, channel.resumePoint]));
    const channels = names.map((name) => this.channelFor(name));
    for (const channel of channels) channel.pendingConnects++;
    this.pendingConnects++;
    const subscribed = await Promise.all(channels.map((channel) => channel.ready)).then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    this.pendingConnects--;
    for (const channel of channels) channel.pendingConnects--;
    if (!subscribed.ok) {
      // The channels that did subscribe are released unless other streams hold them.
      for (const channel of channels) this.releaseIfUnused(channel);
      throw subscribed.error;
    }
    const start: StartPosition[] = channels.map((channel) => ({
      channel: channel.name,
      position: resumePoints.get(channel.name) ?? channel.lastId ?? 0,
    }));
    const client = new HubClient(
      start,
      request.multi,
      request.stream,
      this.options.clientBufferBytes,
      (slow) => this.dropSlow(slow),
      request.abortConnection,
    );
    client.onClose(() => this.remove(client));
    this.clients.add(client);
    this.owners.set(client, request.owner ?? ANONYMOUS_OWNER);
    this.options.metrics.clientsConnected.inc();
    client.write(this.retryFrame);
    client.write(encodePosition(request.multi ? client.cursor : String(start[0]?.position ?? 0)));
    channels.forEach((channel, index) => {
      const subscription = client.subscriptions[index];
      if (!subscription) return;
      const resumePoint = resumePoints.get(channel.name) ?? null;
      if (resumePoint === null) {
        subscription.lastSentKey = channel.lastId ?? 0;
        channel.live.add(subscription);
      } else {
        subscription.replayQueue = [];
        channel.replaying.add(subscription);
        void replayThenLive(channel, subscription, resumePoint, this.options);
      }
    });
    if (request.expiresAtMs !== undefined && request.expiresAtMs !== null) this.scheduleExpiry(client, request.expiresAtMs);
    return client;
  }

  /**
   * Writes an already encoded frame without an id (such as `hub.join`) to every stream that
   * follows `channel`, once per stream.
   */
  broadcast(channel: string, frame: Buffer): void {
    const state = this.channels.get(channel);
    if (!state) return;
    for (const subscription of state.subscriptions()) subscription.client.write(frame);
  }

  /**
   * Writes `frame` (an encoded event without id, such as `hub.disconnect`) to every open stream
   * that `matches` accepts (given its owner and channels), then ends it gracefully. Returns how
   * many streams it ended. Costs a pass over the streams: an operator's action, not per event.
   */
  disconnectStreams(matches: (owner: StreamOwner, channels: readonly string[]) => boolean, frame: Buffer): number {
    let ended = 0;
    for (const client of this.clients) {
      const channels = client.subscriptions.map((subscription) => subscription.channel);
      if (client.closed || !matches(this.owners.get(client) ?? ANONYMOUS_OWNER, channels)) continue;
      client.write(frame);
      client.end();
      ended++;
    }
    return ended;
  }

  /** Every channel with streams on this process and how many streams follow it. */
  *channelConnections(): Iterable<[channel: string, connections: number]> {
    for (const channel of this.channels.values()) yield [channel.name, channel.live.size + channel.replaying.size];
  }

  /** Ends every stream (clients reconnect elsewhere and resume) and stops the timers. */
  close(): void {
    clearInterval(this.heartbeatTimer);
    this.deadlines.stop();
    this.flushDirty();
    for (const client of this.clients) client.end();
  }

  private channelFor(name: string): HubChannel {
    const existing = this.channels.get(name);
    if (existing) return existing;
    const channel = new HubChannel(name, this.channelContext);
    this.channels.set(name, channel);
    channel.ready = channel.initialize().catch((error: unknown) => {
      this.forget(channel);
      throw error instanceof BrokerUnavailableError ? error : new BrokerUnavailableError();
    });
    return channel;
  }

  private receive(name: string, event: StoredEvent, publishedAtMs: number): void {
    this.channels.get(name)?.receive(event, publishedAtMs);
  }

  private markDirty(channel: HubChannel): void {
    this.dirty.add(channel);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Writing is at most half of the loop's time: a flush waits until as long after the last
    // one as that took. At light load the last flush ended long ago and this is the next turn;
    // when flushes come back to back (more events than the streams can be written), the events
    // of that wait share one write per stream instead of taking one each, and the other half
    // is left to the requests (publishes) and Redis.
    const waitMs = Math.min(this.options.maxFlushWaitMs ?? DEFAULT_MAX_FLUSH_WAIT_MS, this.lastFlushCostMs - (performance.now() - this.lastFlushEndMs));
    if (waitMs < MIN_FLUSH_WAIT_MS) setImmediate(this.flushDirtyNow);
    else setTimeout(this.flushDirtyNow, waitMs).unref();
  }

  private readonly flushDirtyNow = (): void => this.flushDirty();

  private flushDirty(): void {
    this.flushScheduled = false;
    const startedAt = performance.now();
    const now = Date.now();
    for (const channel of this.dirty) {
      const batch = channel.takeBatch();
      const writes = fanOut(channel, batch, now);
      this.options.metrics.eventsDelivered.inc(writes * batch.items.length);
      for (const publishedAtMs of batch.publishedAtMs) {
        this.options.metrics.deliveryLatency.observe((now - publishedAtMs) / 1000);
      }
    }
    this.dirty.clear();
    // Node sends what was written once this callback returns (each response uncorks its socket
    // on the next tick, queued before this one): the system calls are most of a flush's cost.
    process.nextTick(this.recordFlushEnd, startedAt);
  }

  private readonly recordFlushEnd = (startedAt: number): void => {
    this.lastFlushEndMs = performance.now();
    this.lastFlushCostMs = this.lastFlushEndMs - startedAt;
  };

  /** `hub.reauth` ahead of the credential's expiry, then the end at it. */
  private scheduleExpiry(client: HubClient, expiresAtMs: number): void {
    const now = Date.now();
    const leadMs = Math.min(REAUTH_LEAD_MS, Math.max(0, (expiresAtMs - now) / 2));
    const reauth = encodeUnidentifiedEvent('hub.reauth', JSON.stringify({ expiresAt: new Date(expiresAtMs).toISOString() }));
    // The deadlines hold a reference that a closed stream gives up, not the stream itself.
    const held: { client: HubClient | null } = { client };
    client.onClose(() => {
      held.client = null;
    });
    this.deadlines.add(expiresAtMs - leadMs, () => held.client?.write(reauth));
    this.deadlines.add(expiresAtMs, () => held.client?.end());
  }

  private dropSlow(client: HubClient): void {
    if (client.closed) return;
    this.options.metrics.clientsDroppedSlow.inc();
    this.options.logger.warn({ channels: client.subscriptions.map((subscription) => subscription.channel) }, 'dropping a slow client (CLIENT_BUFFER_BYTES exceeded)');
    client.abort();
    this.remove(client);
  }

  private remove(client: HubClient): void {
    client.closed = true;
    if (!this.clients.delete(client)) return;
    this.options.metrics.clientsConnected.dec();
    for (const subscription of client.subscriptions) {
      const channel = this.channels.get(subscription.channel);
      if (!channel) continue;
      channel.live.delete(subscription);
      channel.replaying.delete(subscription);
      this.releaseIfUnused(channel);
    }
  }

  private releaseIfUnused(channel: HubChannel): void {
    if (!channel.isUnused || this.channels.get(channel.name) !== channel) return;
    this.forget(channel);
    void this.options.broker.unsubscribe(channel.name);
  }

  private forget(channel: HubChannel): void {
    if (this.channels.get(channel.name) === channel) this.channels.delete(channel.name);
    this.dirty.delete(channel);
  }

  private sendHeartbeats(): void {
    const now = Date.now();
    for (const client of this.clients) {
      if (now - client.lastWriteAtMs >= this.options.heartbeatMs) client.write(HEARTBEAT, now);
    }
  }
}

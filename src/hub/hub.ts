import type { Logger } from 'pino';
import type { EventBroker } from '../broker/broker';
import { BrokerUnavailableError } from '../errors';
import type { Metrics } from '../metrics';
import { encodeComment, encodePosition, encodeRetry } from '../sse/encode';
import { HubChannel, type ChannelContext } from './channel';
import { HubClient, type StartPosition } from './client';
import { realClock, type Clock } from './clock';
import type { ConnectRequest } from './connect-request';
import { sortChannels } from './cursor';
import { Deadlines } from './deadlines';
import { scheduleExpiry } from './expiry';
import { fanOut } from './fan-out';
import { FlushScheduler } from './flush-scheduler';
import { replayThenLive, type ReplayContext } from './replay';
import { channelConnections, StreamOwners, type OwnerMatch } from './stream-owners';

export interface HubOptions {
  readonly broker: EventBroker;
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
  /** Time and timers for deadlines, flush waits and the reauth lead (default: the real ones). */
  readonly clock?: Clock;
  /** True for a channel of `history: 0` (CHANNELS_CONFIG; asked once per channel); default: none is. */
  readonly isEphemeral?: (channel: string) => boolean;
}

export type { ChannelRequest, ConnectRequest } from './connect-request';

const HEARTBEAT = encodeComment('heartbeat');
const DEFAULT_MAX_FLUSH_WAIT_MS = 50;

/**
 * The registry of streams: connect and disconnect, channels ↔ streams, limits, heartbeats and
 * credential expiry. Each channel keeps its own ordered delivery (HubChannel); the events of one
 * flush (the next turn, or a short wait when flushes come back to back: FlushScheduler) are written
 * to each stream as one buffer (fanOut); a resuming stream replays each channel's history before
 * going live on it (replayThenLive). A slow stream is dropped, never awaited. Owners: StreamOwners.
 */
export class Hub {
  private readonly channels = new Map<string, HubChannel>();
  private readonly clients = new Set<HubClient>();
  private readonly owners = new StreamOwners();
  private readonly flushes: FlushScheduler<HubChannel>;
  private pendingConnects = 0;
  private readonly heartbeatTimer: NodeJS.Timeout;
  private readonly clock: Clock;
  private readonly deadlines: Deadlines;
  private readonly retryFrame: Buffer;
  /** Shared by every channel (a channel per user means many of them). */
  private readonly channelContext: ChannelContext;
  private readonly replayContext: ReplayContext;

  constructor(private readonly options: HubOptions) {
    this.clock = options.clock ?? realClock;
    this.deadlines = new Deadlines(this.clock);
    this.flushes = new FlushScheduler((dirty, nowMs) => this.deliver(dirty, nowMs), options.maxFlushWaitMs ?? DEFAULT_MAX_FLUSH_WAIT_MS, this.clock);
    this.retryFrame = encodeRetry(options.retryMs);
    this.channelContext = { ...options, onBatch: (channel) => this.flushes.markDirty(channel) };
    this.replayContext = { broker: options.broker, clock: this.clock, metrics: options.metrics, logger: options.logger };
    options.broker.onEvent((channel, event, publishedAtMs) => this.channels.get(channel)?.receive(event, publishedAtMs));
    options.broker.onEphemeral((channel, event, dataJson, publishedAtMs) => this.channels.get(channel)?.receiveEphemeral(event, dataJson, publishedAtMs));
    options.broker.on('down', () => this.channels.forEach((channel) => channel.markOutage()));
    options.broker.on('resubscribed', () => this.channels.forEach((channel) => channel.catchUpNow()));
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

  /** Credential deadlines (`hub.reauth`, end) of open streams still to come. */
  get deadlineCount(): number {
    return this.deadlines.size;
  }

  /** True when a new stream can be served now (below MAX_CLIENTS, broker ready). */
  get acceptsClients(): boolean {
    return this.clientCount < this.options.maxClients && this.options.broker.ready;
  }

  /**
   * Registers a stream on its channels. Resolves once it is registered for live events on every
   * one, with the retry field and its start position already written, so every event published
   * after the caller sends the headers reaches it; replay continues in the background. Rejects
   * with BrokerUnavailableError when a channel cannot be subscribed. If registering fails
   * half-way, it is undone (the stream destroyed, nothing kept) and the error rethrown.
   */
  async connect(request: ConnectRequest): Promise<HubClient> {
    const names = sortChannels(request.channels.map((channel) => channel.name));
    const resumePoints = new Map(request.channels.map((channel) => [channel.name, channel.resumePoint]));
    const channels = names.map((name) => this.channelFor(name));
    await this.whenReady(channels);
    // An ephemeral channel has no position: a resume point given for it is ignored.
    const start: StartPosition[] = channels.map((channel) => ({
      channel: channel.name,
      position: channel.ephemeral ? 0 : (resumePoints.get(channel.name) ?? channel.lastId ?? 0),
      ephemeral: channel.ephemeral,
    }));
    const client = new HubClient(start, request.framing, request.stream, this.options.clientBufferBytes, (slow) => this.dropSlow(slow), request.abortConnection);
    let cancelExpiry = (): void => undefined;
    client.onClose(() => {
      cancelExpiry();
      this.remove(client);
    });
    this.clients.add(client);
    this.owners.set(client, request.owner);
    this.options.metrics.clientsConnected.inc();
    try {
      client.write(this.retryFrame);
      // A single ephemeral channel has no position to prime; a multi-channel stream always
      // primes its cursor (a followed channel missing from it is an ephemeral one).
      if (request.framing === 'multi') client.write(encodePosition(client.cursor));
      else if (start[0]?.ephemeral !== true) client.write(encodePosition(String(start[0]?.position ?? 0)));
      channels.forEach((channel, index) => {
        const stream = client.streamChannels[index];
        if (!stream) return;
        const resumePoint = channel.ephemeral ? null : (resumePoints.get(channel.name) ?? null);
        if (resumePoint === null) {
          channel.addLive(stream);
        } else {
          channel.startReplay(stream);
          void replayThenLive(channel, stream, resumePoint, this.replayContext);
        }
      });
      if (request.expiresAtMs !== undefined && request.expiresAtMs !== null) {
        cancelExpiry = scheduleExpiry(this.deadlines, this.clock, client, request.expiresAtMs);
      }
    } catch (error) {
      cancelExpiry();
      client.discard();
      this.remove(client);
      throw error;
    }
    return client;
  }

  /**
   * Writes an already encoded frame without an id (such as `hub.join`) to every stream that
   * follows `channel`, once per stream.
   */
  broadcast(channel: string, frame: Buffer): void {
    const state = this.channels.get(channel);
    if (!state) return;
    for (const stream of state.streams()) stream.client.write(frame);
  }

  /** Writes `frame` (`hub.disconnect`) to each stream `matches` accepts and ends it; returns how many. */
  readonly disconnectStreams = (matches: OwnerMatch, frame: Buffer): number => this.owners.disconnect(this.clients, matches, frame);

  /** Every channel with streams on this process, and how many streams follow it. */
  readonly channelConnections = (): Array<[channel: string, connections: number]> => channelConnections(this.channels.values());

  /** Ends every stream (clients reconnect elsewhere and resume) and stops the timers. */
  close(): void {
    clearInterval(this.heartbeatTimer);
    this.deadlines.stop();
    this.flushes.flushNow();
    for (const client of this.clients) client.end();
  }

  /** Waits until every channel is subscribed; on failure releases those no other stream holds. */
  private async whenReady(channels: readonly HubChannel[]): Promise<void> {
    // Pinned until all are ready: a channel ready early must not be released meanwhile.
    for (const channel of channels) channel.pinForConnect();
    this.pendingConnects++;
    const ready = Promise.all(channels.map((channel) => channel.ready));
    const subscribed = await ready.then(() => ({ ok: true as const }), (error: unknown) => ({ ok: false as const, error }));
    this.pendingConnects--;
    for (const channel of channels) channel.unpinForConnect();
    if (subscribed.ok) return;
    for (const channel of channels) this.releaseIfUnused(channel);
    throw subscribed.error;
  }

  private channelFor(name: string): HubChannel {
    const existing = this.channels.get(name);
    if (existing) return existing;
    const channel = new HubChannel(name, this.channelContext, this.options.isEphemeral?.(name) ?? false);
    this.channels.set(name, channel);
    channel.start((error) => {
      this.forget(channel);
      return error instanceof BrokerUnavailableError ? error : new BrokerUnavailableError();
    });
    return channel;
  }

  /** Writes each channel's batch; returns the most items one channel had. */
  private deliver(dirty: ReadonlySet<HubChannel>, nowMs: number): number {
    let most = 0;
    for (const channel of dirty) {
      const batch = channel.takeBatch();
      most = Math.max(most, batch.items.length);
      const writes = fanOut(channel, batch, nowMs);
      this.options.metrics.eventsDelivered.inc(writes * batch.items.length);
      for (const publishedAtMs of batch.publishedAtMs) this.options.metrics.deliveryLatency.observe((nowMs - publishedAtMs) / 1000);
    }
    return most;
  }

  private dropSlow(client: HubClient): void {
    if (client.closed) return;
    this.options.metrics.clientsDroppedSlow.inc();
    this.options.logger.warn({ channels: client.streamChannels.map((stream) => stream.channel) }, 'dropping a slow client (CLIENT_BUFFER_BYTES exceeded)');
    client.abort();
    this.remove(client);
  }

  private remove(client: HubClient): void {
    if (!this.clients.delete(client)) return;
    this.options.metrics.clientsConnected.dec();
    for (const stream of client.streamChannels) {
      const channel = this.channels.get(stream.channel);
      if (!channel) continue;
      channel.remove(stream);
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
    this.flushes.forget(channel);
  }

  private sendHeartbeats(): void {
    const now = this.clock.now();
    for (const client of this.clients) client.writeIfIdle(HEARTBEAT, this.options.heartbeatMs, now);
  }
}

import type { PassThrough } from 'node:stream';
import type { Logger } from 'pino';
import type { Broker, HistoryPage } from './broker/broker';
import { BrokerUnavailableError } from './errors';
import type { StoredEvent } from './event';
import { HubChannel, type Batch } from './hub-channel';
import { HubClient } from './hub-client';
import type { Metrics } from './metrics';
import { encodeComment, encodeEvent, encodeRetry, encodeUnidentifiedEvent } from './sse/encode';

export interface HubOptions {
  readonly broker: Broker;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly historySize: number;
  readonly heartbeatMs: number;
  readonly retryMs: number;
  readonly maxClients: number;
  readonly clientBufferBytes: number;
}

/** What a stream request asks of the hub. */
export interface ConnectRequest {
  readonly channel: string;
  /** Last-Event-ID; null = live only. */
  readonly resumePoint: number | null;
  readonly stream: PassThrough;
  /** Destroys the client's connection (used to drop a slow client at once). */
  readonly abortConnection: () => void;
}

const HEARTBEAT = encodeComment('heartbeat');
/** Events per history read while replaying; the client must take one page before the next. */
const REPLAY_PAGE_EVENTS = 200;

/**
 * Clients per channel, replay then live, fan-out. Each live event is encoded once and the events
 * of one event-loop turn are written to every client as one buffer. Per channel, ids reach
 * clients consecutively: a hole in pub/sub delivery is filled from history before going on, and
 * one history cannot fill reaches clients as `hub.gap`. A slow client is dropped, never awaited.
 */
export class Hub {
  private readonly channels = new Map<string, HubChannel>();
  private readonly dirty = new Set<HubChannel>();
  private flushScheduled = false;
  private clients = 0;
  private pendingConnects = 0;
  private readonly heartbeatTimer: NodeJS.Timeout;
  private readonly retryFrame: Buffer;

  constructor(private readonly options: HubOptions) {
    this.retryFrame = encodeRetry(options.retryMs);
    options.broker.onEvent((channel, event, publishedAtMs) => this.receive(channel, event, publishedAtMs));
    options.broker.on('down', () => {
      for (const channel of this.channels.values()) channel.needsCatchUp = true;
    });
    options.broker.on('resubscribed', () => {
      for (const channel of this.channels.values()) {
        // Catch up now, even if a drain during the outage already cleared the flag.
        channel.needsCatchUp = true;
        if (channel.initialized) void this.drain(channel);
      }
    });
    // One timer for the whole hub, checking channels rather than clients.
    const tickMs = Math.max(5, Math.floor(options.heartbeatMs / 10));
    this.heartbeatTimer = setInterval(() => this.sendHeartbeats(), tickMs);
    this.heartbeatTimer.unref();
  }

  /** Open streams, plus connects still being set up. */
  get clientCount(): number {
    return this.clients + this.pendingConnects;
  }

  /** Channels with clients (each holds one subscription). */
  get channelCount(): number {
    return this.channels.size;
  }

  /** True when a new stream can be served now (below MAX_CLIENTS, broker ready). */
  get acceptsClients(): boolean {
    return this.clientCount < this.options.maxClients && this.options.broker.ready;
  }

  /**
   * Registers a stream. Resolves once the client is registered for live events, so every event
   * published after the caller sends the headers reaches it; replay continues in the background.
   * Rejects with BrokerUnavailableError when the channel cannot be subscribed.
   */
  async connect(request: ConnectRequest): Promise<HubClient> {
    const channel = this.channelFor(request.channel);
    channel.pendingConnects++;
    this.pendingConnects++;
    try {
      await channel.ready;
    } finally {
      channel.pendingConnects--;
      this.pendingConnects--;
    }
    const client = new HubClient(
      request.channel,
      request.stream,
      this.options.clientBufferBytes,
      (slow) => this.dropSlow(slow),
      request.abortConnection,
    );
    client.onClose(() => this.remove(channel, client));
    this.clients++;
    this.options.metrics.clientsConnected.inc();
    client.write(this.retryFrame);
    if (request.resumePoint === null) {
      client.lastSentKey = channel.lastId ?? 0;
      channel.live.add(client);
    } else {
      client.replayQueue = [];
      channel.replaying.add(client);
      void this.replay(channel, client, request.resumePoint);
    }
    return client;
  }

  /**
   * Writes an already-encoded frame (one without `id:`, such as `hub.join`) to every open stream
   * of the channel, once each. (Stand-in until the multi-channel hub's broadcast lands.)
   */
  broadcast(name: string, frame: Buffer): void {
    const channel = this.channels.get(name);
    if (!channel) return;
    for (const client of channel.live) client.write(frame);
    for (const client of channel.replaying) client.write(frame);
  }

  /** Ends every stream (clients reconnect elsewhere and resume) and stops the heartbeat. */
  close(): void {
    clearInterval(this.heartbeatTimer);
    for (const channel of this.channels.values()) {
      this.flush(channel);
      for (const client of [...channel.live, ...channel.replaying]) client.end();
    }
  }

  private channelFor(name: string): HubChannel {
    const existing = this.channels.get(name);
    if (existing) return existing;
    const channel = new HubChannel(name);
    this.channels.set(name, channel);
    channel.ready = this.initialize(channel);
    return channel;
  }

  private async initialize(channel: HubChannel): Promise<void> {
    try {
      await this.options.broker.subscribe(channel.name);
      const newest = await this.options.broker.history(channel.name, { limit: 1 });
      channel.lastId = newest.lastId;
      channel.initialized = true;
    } catch (error) {
      this.channels.delete(channel.name);
      void this.options.broker.unsubscribe(channel.name);
      throw error instanceof BrokerUnavailableError ? error : new BrokerUnavailableError();
    }
    if (channel.inbox.length > 0) void this.drain(channel);
  }

  private receive(name: string, event: StoredEvent, publishedAtMs: number): void {
    const channel = this.channels.get(name);
    if (!channel) return;
    // Fast path: in order and nothing queued, so deliver without touching the inbox.
    if (channel.initialized && !channel.draining && channel.inbox.length === 0 && !channel.needsCatchUp) {
      // A channel that had no events yet checks its first one against history too (null = 0).
      if (event.id <= (channel.lastId ?? 0) + 1) {
        this.accept(channel, event, publishedAtMs);
        return;
      }
    }
    channel.inbox.push({ event, publishedAtMs });
    if (channel.initialized && !channel.draining) void this.drain(channel);
  }

  /** Delivers the inbox in id order, reading history first wherever ids are missing. */
  private async drain(channel: HubChannel): Promise<void> {
    if (channel.draining) return;
    channel.draining = true;
    try {
      for (;;) {
        if (channel.needsCatchUp) {
          channel.needsCatchUp = false;
          await this.catchUp(channel);
        }
        const next = channel.inbox[0];
        if (!next) break;
        if (next.event.id > (channel.lastId ?? 0) + 1) {
          const hadEvents = channel.lastId !== null;
          await this.catchUp(channel, next.event.id);
          if (hadEvents) this.options.metrics.gapsRepaired.inc();
        }
        channel.inbox.shift();
        this.accept(channel, next.event, next.publishedAtMs);
      }
    } catch (error) {
      // The broker went away mid-repair: resume when it is back (`resubscribed`).
      channel.needsCatchUp = true;
      this.options.logger.warn({ err: error, channel: channel.name }, 'catch-up from history failed; will retry');
    } finally {
      channel.draining = false;
    }
  }

  /** Delivers history after the channel's last id (up to, not including, `beforeId` if given). */
  private async catchUp(channel: HubChannel, beforeId = Infinity): Promise<void> {
    const after = channel.lastId ?? 0;
    const page = await this.options.broker.history(channel.name, { after, limit: this.options.historySize });
    for (const event of page.events) {
      // The event that revealed the hole comes from the inbox, with its publish time.
      if (event.id >= beforeId) break;
      this.accept(channel, event, undefined);
    }
  }

  /** Takes an event into the channel's ordered delivery: drops repeats, flags holes. */
  private accept(channel: HubChannel, event: StoredEvent, publishedAtMs: number | undefined): void {
    const lastId = channel.lastId;
    if (lastId !== null && event.id <= lastId) return;
    if (lastId !== null && event.id > lastId + 1) {
      this.options.metrics.gapsUnrepairable.inc();
      channel.enqueue({ key: event.id - 0.5, frame: gapNotice(lastId, event.id) }, undefined);
    }
    channel.lastId = event.id;
    channel.enqueue({ key: event.id, frame: encodeEvent(event.id, event.event, event.dataJson) }, publishedAtMs);
    this.dirty.add(channel);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushDirty());
    }
  }

  private flushDirty(): void {
    this.flushScheduled = false;
    for (const channel of this.dirty) this.flush(channel);
    this.dirty.clear();
  }

  private flush(channel: HubChannel): void {
    const batch = channel.takeBatch();
    const lastKey = batch.keys[batch.keys.length - 1];
    if (lastKey === undefined) return;
    const firstKey = batch.keys[0] ?? lastKey;
    const buffer = batch.frames.length === 1 ? (batch.frames[0] as Buffer) : Buffer.concat(batch.frames);
    let writes = 0;
    for (const client of channel.live) {
      if (client.lastSentKey >= lastKey) continue;
      client.write(client.lastSentKey < firstKey ? buffer : framesAfter(batch, client.lastSentKey));
      client.lastSentKey = lastKey;
      writes++;
    }
    const now = Date.now();
    channel.lastWriteAtMs = now;
    this.options.metrics.eventsDelivered.inc(writes * batch.frames.length);
    for (const publishedAtMs of batch.publishedAtMs) {
      this.options.metrics.deliveryLatency.observe((now - publishedAtMs) / 1000);
    }
  }

  /**
   * Sends the history after the resume point in pages, waiting for the client to take each one,
   * so a wave of reconnects holds at most a page per client, not its whole history.
   */
  private async replay(channel: HubChannel, client: HubClient, resumePoint: number): Promise<void> {
    const read = (after: number): Promise<HistoryPage> =>
      this.options.broker.history(channel.name, { after, limit: REPLAY_PAGE_EVENTS });
    try {
      // Let the route hand the stream to Koa first: unpiped bytes would count as a slow client.
      await new Promise<void>((resolve) => setImmediate(resolve));
      let page = await read(resumePoint);
      const { firstId, lastId } = page;
      const gap = resumePoint > 0 && (firstId === null || lastId === null || resumePoint < firstId - 1 || resumePoint > lastId);
      if (gap) {
        client.write(gapNotice(resumePoint, firstId));
        if (lastId !== null && resumePoint > lastId) page = await read(0);
      } else {
        client.lastSentKey = resumePoint;
      }
      for (;;) {
        const last = page.events[page.events.length - 1];
        if (client.closed) return;
        if (!last) break;
        client.write(Buffer.concat(page.events.map((event) => encodeEvent(event.id, event.event, event.dataJson))));
        client.lastSentKey = last.id;
        this.options.metrics.eventsReplayed.inc(page.events.length);
        if (page.events.length < REPLAY_PAGE_EVENTS) break;
        await client.drained();
        page = await read(last.id);
        // Trimmed while this client read the previous pages: say so before going on.
        if (page.firstId !== null && page.firstId > last.id + 1) client.write(gapNotice(last.id, page.firstId));
      }
      this.goLive(channel, client);
    } catch (error) {
      // History is unreachable, so the resume cannot be honoured: end; the client retries.
      this.options.logger.warn({ err: error, channel: channel.name }, 'replay failed; ending stream');
      client.end();
    }
  }

  /** Sends what arrived live during the replay (minus what history already gave), then goes live. */
  private goLive(channel: HubChannel, client: HubClient): void {
    const queued = client.replayQueue ?? [];
    client.replayQueue = null;
    const unsent = queued.filter((keyed) => keyed.key > client.lastSentKey);
    const last = unsent[unsent.length - 1];
    if (last) {
      client.write(Buffer.concat(unsent.map((keyed) => keyed.frame)));
      client.lastSentKey = last.key;
    }
    if (client.closed) return;
    channel.replaying.delete(client);
    channel.live.add(client);
  }

  private dropSlow(client: HubClient): void {
    if (client.closed) return;
    this.options.metrics.clientsDroppedSlow.inc();
    this.options.logger.warn({ channel: client.channel }, 'dropping a slow client (CLIENT_BUFFER_BYTES exceeded)');
    client.abort();
    const channel = this.channels.get(client.channel);
    if (channel) this.remove(channel, client);
  }

  private remove(channel: HubChannel, client: HubClient): void {
    client.closed = true;
    if (!channel.live.delete(client) && !channel.replaying.delete(client)) return;
    this.clients--;
    this.options.metrics.clientsConnected.dec();
    if (channel.isUnused && this.channels.get(channel.name) === channel) {
      this.channels.delete(channel.name);
      this.dirty.delete(channel);
      void this.options.broker.unsubscribe(channel.name);
    }
  }

  private sendHeartbeats(): void {
    const now = Date.now();
    for (const channel of this.channels.values()) {
      if (now - channel.lastWriteAtMs < this.options.heartbeatMs) continue;
      channel.lastWriteAtMs = now;
      for (const client of channel.live) client.write(HEARTBEAT);
      for (const client of channel.replaying) client.write(HEARTBEAT);
    }
  }
}

function gapNotice(lastEventId: number, firstAvailableId: number | null): Buffer {
  return encodeUnidentifiedEvent(
    'hub.gap',
    JSON.stringify({ lastEventId: String(lastEventId), firstAvailableId: firstAvailableId === null ? null : String(firstAvailableId) }),
  );
}

/** The part of a batch after `lastSentKey`, for a client that already has its beginning. */
function framesAfter(batch: Batch, lastSentKey: number): Buffer {
  const start = batch.keys.findIndex((key) => key > lastSentKey);
  return Buffer.concat(batch.frames.slice(start));
}

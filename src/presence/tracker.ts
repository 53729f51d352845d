import type { Logger } from 'pino';
import type { EventBroker } from '../broker/broker';
import type { PresenceEntry, PresenceStore, PresenceUpdate } from '../broker/presence-store';
import type { Metrics } from '../metrics';
import { encodeUnidentifiedEvent } from '../sse/encode';
import { ALWAYS_TRACKED_CHANNEL } from './tracked-channels';

/** Who opened a stream: the credential's `sub` and `info` (null when anonymous), and the chat name. */
export interface StreamIdentity {
  readonly sub: string | null;
  readonly info: Readonly<Record<string, unknown>> | null;
  /** The chat session's name: the stream's `sub` on `chat`, before any token's. */
  readonly chatName?: string | null;
}

export interface PresenceTrackerOptions {
  /** Where entries are written and read; its joins and leaves are broadcast. */
  readonly store: PresenceStore;
  /** The event broker whose `resubscribed` (Redis is back) triggers a restoring write. */
  readonly events: Pick<EventBroker, 'on'>;
  /** True for a channel whose subscribers are tracked (PRESENCE_CHANNELS and `chat`). */
  readonly isTracked: (channel: string) => boolean;
  readonly refreshMs: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Writes an encoded frame to every open stream on the channel (the hub's broadcast). */
  readonly broadcast: (channel: string, frame: Buffer) => void;
}

interface LocalChannel {
  connections: number;
  readonly members: Map<string, { connections: number; readonly infoJson: string }>;
}

/** Entries live this many refresh periods, so one or two lost refreshes do not make anyone leave. */
const LIFETIMES_PER_REFRESH = 3;

/**
 * This process's streams on presence-tracked channels, mirrored into the broker: written on
 * each stream's open and close and renewed in one batch per refresh tick, never per event.
 * Joins and leaves heard from the broker (from any process) go to the channel's streams as
 * `hub.join` / `hub.leave` frames without an id.
 */
export class PresenceTracker {
  private readonly channels = new Map<string, LocalChannel>();
  private readonly timer: NodeJS.Timeout;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  /** A write failed since the last refresh, so stored counts may be stale: rewrite them in full. */
  private writeFailed = false;
  /** Redis came back: the next refresh restores this process's entries before any sweep of others. */
  private restoring = false;

  constructor(private readonly options: PresenceTrackerOptions) {
    options.store.onPresence((channel, signal, dataJson) => {
      options.broadcast(channel, encodeUnidentifiedEvent(`hub.${signal}`, dataJson));
    });
    // Entries may have expired during an outage: write them back as soon as Redis returns, as a
    // restore, so members still connected here (or on another instance) neither leave nor join.
    // From the moment Redis is lost, every write of the whole state is a restore until one lands:
    // the refresh timer may fire before `resubscribed` does (the command connection often returns
    // first), and a plain refresh then would announce everyone here as joining again.
    options.events.on('down', () => {
      this.restoring = true;
    });
    options.events.on('resubscribed', () => {
      this.restoring = true;
      void this.refresh();
    });
    this.timer = setInterval(() => void this.refresh(), options.refreshMs);
    this.timer.unref();
  }

  /** How long an entry lives in the broker without a refresh. */
  get ttlMs(): number {
    return this.options.refreshMs * LIFETIMES_PER_REFRESH;
  }

  /** The store presence is read from (GET /channels/:channel/presence). */
  get store(): PresenceStore {
    return this.options.store;
  }

  isTracked(channel: string): boolean {
    return this.options.isTracked(channel);
  }

  /**
   * Records a stream opened on `channels` (untracked ones are skipped) and returns the function
   * to call when it closes (calling it again does nothing). Writes in the background: a failed
   * write is logged and repaired by the next refresh.
   */
  open(channels: readonly string[], identity: StreamIdentity): () => void {
    const tracked = channels.filter((channel) => this.options.isTracked(channel));
    if (tracked.length === 0) return () => undefined;
    this.write(tracked.map((channel) => this.change(channel, subOf(channel, identity), 1)));
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.write(tracked.map((channel) => this.change(channel, subOf(channel, identity), -1)));
    };
  }

  /**
   * Renews every entry of this process in one batch (also removes other processes' expired
   * ones). Asked again while one is in flight (Redis just returned), it runs once more after it.
   */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        await this.writeAll();
      } while (this.refreshAgain);
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Stops the refresh timer; streams still open are removed by their own close. */
  close(): void {
    clearInterval(this.timer);
  }

  private async writeAll(): Promise<void> {
    if (this.channels.size === 0) return;
    const renewal = !this.writeFailed;
    const restore = this.restoring;
    this.writeFailed = false;
    this.restoring = false;
    const updates: PresenceUpdate[] = [];
    for (const [channel, local] of this.channels) {
      const members: PresenceEntry[] = [];
      for (const [sub, member] of local.members) members.push({ sub, ...member });
      updates.push({ channel, connections: local.connections, members, renewal, restore, complete: true });
    }
    const stopTimer = this.options.metrics.presenceRefreshDuration.startTimer();
    try {
      await this.options.store.writePresence(updates, this.ttlMs);
      stopTimer();
    } catch (error) {
      this.writeFailed = true;
      this.restoring ||= restore;
      this.options.logger.warn({ err: error }, 'presence refresh failed; retrying on the next tick');
    }
  }

  /** Applies one stream's arrival (+1) or departure (-1) locally; returns what to write. */
  private change(channel: string, who: { sub: string; infoJson: string } | null, delta: 1 | -1): PresenceUpdate {
    let local = this.channels.get(channel);
    if (!local) {
      local = { connections: 0, members: new Map() };
      this.channels.set(channel, local);
    }
    local.connections += delta;
    const members: PresenceEntry[] = [];
    if (who !== null) {
      const earlier = local.members.get(who.sub);
      const connections = (earlier?.connections ?? 0) + delta;
      const infoJson = earlier?.infoJson ?? who.infoJson;
      if (connections > 0) local.members.set(who.sub, { connections, infoJson });
      else local.members.delete(who.sub);
      if (!earlier && connections > 0) this.options.metrics.presenceMembers.inc();
      else if (connections <= 0) this.options.metrics.presenceMembers.dec();
      members.push({ sub: who.sub, connections: Math.max(0, connections), infoJson });
    }
    if (local.connections <= 0 && local.members.size === 0) this.channels.delete(channel);
    return { channel, connections: Math.max(0, local.connections), members };
  }

  private write(updates: PresenceUpdate[]): void {
    this.options.store.writePresence(updates, this.ttlMs).catch((error: unknown) => {
      this.writeFailed = true;
      this.options.logger.warn({ err: error }, 'presence write failed; the next refresh repairs it');
    });
  }
}

/** The stream's `sub` on `channel` with its info as JSON, or null for an anonymous stream. */
function subOf(channel: string, identity: StreamIdentity): { sub: string; infoJson: string } | null {
  if (channel === ALWAYS_TRACKED_CHANNEL && identity.chatName) return { sub: identity.chatName, infoJson: '{}' };
  if (identity.sub === null) return null;
  return { sub: identity.sub, infoJson: JSON.stringify(identity.info ?? {}) };
}

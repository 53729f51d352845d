import type { Logger } from 'pino';
import type { EventBroker, PublishRequest, PublishResult } from '../broker/broker';
import type { ControlMessage, ControlStore } from '../broker/control-store';
import type { InstanceReport, StatsStore } from '../broker/stats-store';
import type { Hub } from '../hub/hub';
import type { StreamOwner } from '../hub/stream-owner';
import type { Metrics } from '../metrics';
import { sumStats, type InstanceStats } from '../stats/instance-stats';
import type { StatsSampler } from '../stats/stats-sampler';
import type { ChannelsReport, ControlPlane, DisconnectOrder, RevokeOrder, StatsReport } from './control-plane';
import { disconnectFrame } from './disconnect-frame';
import { RevocationSet } from './revocation-set';
import { retryWhileBrokerUnavailable } from './start-retry';

export interface BrokerControlPlaneOptions {
  readonly hub: Hub;
  readonly events: EventBroker;
  readonly control: ControlStore;
  readonly stats: StatsStore;
  readonly metrics: Metrics;
  readonly sampler: StatsSampler;
  readonly logger: Logger;
  readonly revocationTtlMs: number;
  readonly now?: () => number;
}

const REVOKED_FRAME = disconnectFrame('the credential was revoked', true);

/**
 * The control plane over the broker's ControlStore and StatsStore: it works the same on the
 * in-process stores (one instance) and on Redis (every instance sharing it). Orders go out on the
 * control channel and are carried out by every instance's listener, this one's included;
 * revocations are also kept in a RevocationSet in memory (loaded at `start`, again after each
 * `resubscribed`, and fed by the channel), so checking a token costs two Map lookups. Each
 * sampler report is stored for the others; this instance's own figures are read live.
 */
export class BrokerControlPlane implements ControlPlane {
  private readonly revocations: RevocationSet;
  private readonly now: () => number;
  private stopReports: () => void = () => undefined;
  private reporting = false;
  private closed = false;

  constructor(private readonly options: BrokerControlPlaneOptions) {
    this.now = options.now ?? Date.now;
    this.revocations = new RevocationSet(options.revocationTtlMs, this.now);
  }

  /**
   * Listens on the control channel and loads the stored revocations: resolves once both are
   * done, so the instance honours every revocation before it serves. Then stores each sampler
   * report and reloads the revocations after each outage. Rejects with BrokerUnavailableError.
   */
  async start(): Promise<void> {
    const { control, events, sampler } = this.options;
    await retryWhileBrokerUnavailable(() => control.listen((message) => this.carryOut(message)));
    await retryWhileBrokerUnavailable(() => this.loadRevocations());
    events.on('resubscribed', () => {
      this.loadRevocations().catch((error: unknown) => this.options.logger.warn({ err: error }, 'revocations could not be reloaded'));
    });
    this.stopReports = sampler.onReport((stats) => void this.report(stats));
  }

  async publish(request: PublishRequest): Promise<PublishResult> {
    const result = await this.options.events.publish(request);
    if (!result.duplicate) this.options.metrics.eventsPublished.inc();
    return result;
  }

  async publishEphemeral(channel: string, event: string, dataJson: string): Promise<void> {
    await this.options.events.publishEphemeral(channel, event, dataJson);
    this.options.metrics.eventsPublished.inc();
  }

  disconnect(order: DisconnectOrder): Promise<void> {
    return this.options.control.sendDisconnect(order);
  }

  async revoke(order: RevokeOrder): Promise<void> {
    await this.options.control.revoke(order, this.options.revocationTtlMs);
    // Here at once, not only when the channel's copy comes back.
    this.apply({ revocation: order, expiresAtMs: this.now() + this.options.revocationTtlMs });
  }

  isRevoked(claims: StreamOwner): boolean {
    return this.revocations.covers(claims);
  }

  async channels(matches: (channel: string) => boolean, limit: number): Promise<ChannelsReport> {
    const sources = await this.instanceReports();
    const totals = new Map<string, number>();
    for (const counts of sources.map((source) => source.channels)) {
      for (const [channel, connections] of counts) {
        if (connections > 0 && matches(channel)) totals.set(channel, (totals.get(channel) ?? 0) + connections);
      }
    }
    const channels = [...totals].map(([channel, connections]) => ({ channel, connections }));
    channels.sort((a, b) => b.connections - a.connections || (a.channel < b.channel ? -1 : 1));
    return { channels: channels.slice(0, limit), instances: sources.length };
  }

  async stats(): Promise<StatsReport> {
    const instances = (await this.instanceReports()).map((source) => source.figures);
    instances.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : 1));
    return { instances, totals: sumStats(instances) };
  }

  deleteHistory(channel: string): Promise<void> {
    return this.options.control.deleteHistory(channel);
  }

  /** Stops reporting and removes this instance's report, so it leaves the list at once. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopReports();
    await this.options.stats.remove(this.options.sampler.latest.id);
  }

  private carryOut(message: ControlMessage): void {
    if (message.kind === 'revoke') {
      this.apply(message);
      return;
    }
    const { sub, channel } = message;
    this.options.hub.disconnectStreams(
      (owner, channels) => owner.sub === sub && (channel === undefined || channels.includes(channel)),
      disconnectFrame(message.reason, message.reconnect),
    );
  }

  /** Adds a revocation and ends the open streams it covers (one pass over the streams). */
  private apply(stored: { revocation: RevokeOrder; expiresAtMs: number }): void {
    this.revocations.add(stored.revocation, stored.expiresAtMs - this.options.revocationTtlMs);
    this.endRevokedStreams();
  }

  private async loadRevocations(): Promise<void> {
    const stored = await this.options.control.loadRevocations();
    for (const each of stored) this.revocations.add(each.revocation, each.expiresAtMs - this.options.revocationTtlMs);
    if (stored.length > 0) this.endRevokedStreams();
  }

  private endRevokedStreams(): void {
    this.options.hub.disconnectStreams((owner) => this.revocations.covers(owner), REVOKED_FRAME);
  }

  private async report(stats: InstanceStats): Promise<void> {
    // A report slower than the interval (an outage) is skipped, not stacked.
    if (this.reporting || this.closed) return;
    this.reporting = true;
    try {
      await this.options.stats.report({ id: stats.id, figures: JSON.stringify(stats), channels: JSON.stringify(this.options.hub.channelConnections()) });
    } catch (error) {
      this.options.logger.debug({ err: error }, 'stats report not stored');
    } finally {
      this.reporting = false;
    }
  }

  /** Every live instance's figures and channel counts; this instance's own are read now. */
  private async instanceReports(): Promise<Array<{ figures: InstanceStats; channels: Array<[string, number]> }>> {
    const { hub } = this.options;
    // The counts are read now: an operator's action shows at once on the instance that took it.
    const own = { ...this.options.sampler.latest, connections: hub.clientCount, channels: hub.channelCount };
    const others = (await this.options.stats.readAll()).filter((report) => report.id !== own.id).flatMap(parseReport);
    return [{ figures: own, channels: hub.channelConnections() }, ...others];
  }
}

function parseReport(report: InstanceReport): Array<{ figures: InstanceStats; channels: Array<[string, number]> }> {
  try {
    return [{ figures: JSON.parse(report.figures) as InstanceStats, channels: JSON.parse(report.channels) as Array<[string, number]> }];
  } catch {
    // Written by another version, or cut: that instance is left out until its next report.
    return [];
  }
}

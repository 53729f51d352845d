import type { Broker, PublishRequest, PublishResult } from '../broker/broker';
import type { Hub } from '../hub/hub';
import type { StreamOwner } from '../hub/stream-owner';
import type { Metrics } from '../metrics';
import { sumStats } from '../stats/instance-stats';
import type { StatsSampler } from '../stats/stats-sampler';
import type { ChannelsReport, ControlPlane, DisconnectOrder, RevokeOrder, StatsReport } from './control-plane';
import { disconnectFrame } from './disconnect-frame';
import { RevocationSet } from './revocation-set';

/** Deletes a channel's history and id counter (MemoryBroker.deleteHistory). */
export type HistoryDeleter = (channel: string) => Promise<void>;

export interface LocalControlPlaneOptions {
  readonly hub: Hub;
  readonly broker: Broker;
  readonly metrics: Metrics;
  readonly sampler: StatsSampler;
  readonly deleteHistory: HistoryDeleter;
  readonly revocationTtlMs: number;
  readonly now?: () => number;
}

/**
 * The control plane of one process (the in-process broker): every order acts on this
 * process's hub at once, revocations live in this process's memory (a restart forgets them,
 * as it forgets the history), and the figures are this instance's own.
 */
export class LocalControlPlane implements ControlPlane {
  private readonly revocations: RevocationSet;

  constructor(private readonly options: LocalControlPlaneOptions) {
    this.revocations = new RevocationSet(options.revocationTtlMs, options.now);
  }

  async publish(request: PublishRequest): Promise<PublishResult> {
    const result = await this.options.broker.publish(request);
    if (!result.duplicate) this.options.metrics.eventsPublished.inc();
    return result;
  }

  disconnect(order: DisconnectOrder): Promise<void> {
    const { sub, channel } = order;
    this.options.hub.disconnectStreams(
      (owner, channels) => owner.sub === sub && (channel === undefined || channels.includes(channel)),
      disconnectFrame(order.reason, order.reconnect),
    );
    return Promise.resolve();
  }

  revoke(order: RevokeOrder): Promise<void> {
    this.revocations.add(order);
    const frame = disconnectFrame('the credential was revoked', true);
    this.options.hub.disconnectStreams((owner) => this.revocations.covers(owner), frame);
    return Promise.resolve();
  }

  isRevoked(claims: StreamOwner): boolean {
    return this.revocations.covers(claims);
  }

  channels(matches: (channel: string) => boolean, limit: number): Promise<ChannelsReport> {
    const channels = [];
    for (const [channel, connections] of this.options.hub.channelConnections()) {
      if (connections > 0 && matches(channel)) channels.push({ channel, connections });
    }
    channels.sort((a, b) => b.connections - a.connections || (a.channel < b.channel ? -1 : 1));
    return Promise.resolve({ channels: channels.slice(0, limit), instances: 1 });
  }

  stats(): Promise<StatsReport> {
    const instances = [this.options.sampler.latest];
    return Promise.resolve({ instances, totals: sumStats(instances) });
  }

  deleteHistory(channel: string): Promise<void> {
    return this.options.deleteHistory(channel);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

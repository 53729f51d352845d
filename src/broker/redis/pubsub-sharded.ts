import { Cluster, type Redis } from 'ioredis';
import { keySlot } from './key-slot';
import type { PingTarget } from './ping-watchdog';
import { PubSub, type PubSubOptions } from './pubsub';
import { ShardOwners } from './shard-owners';
import type { SubscriptionTransport } from './subscription-batch';

/** After a failed renewal of the shard subscriptions, the next try comes this much later. */
const RENEW_RETRY_MS = 500;

/** ioredis 6's (private) group of per-master sharded subscriber connections. */
interface ShardedSubscriberGroup {
  readonly shardedSubscribers?: ReadonlyMap<string, { getInstance(): Redis | null }>;
}

/**
 * Sharded pub/sub (Redis Cluster, Redis >= 7): SSUBSCRIBE of shard channels, one command per
 * slot, which ioredis' `shardedSubscribers` sends to that slot's master over one connection per
 * master. ioredis rebuilds those connections itself (a failover, a slot moved, a connection
 * lost) and says `subscribersReady`; each time, every subscription is renewed and the hub
 * catches up from history, since events published meanwhile reached no subscriber of ours.
 */
export class ShardedPubSub extends PubSub {
  /** Notices slot owner changes ioredis did not announce. */
  private readonly owners: ShardOwners | undefined;
  private renewRetry: NodeJS.Timeout | undefined;
  /** A shard's connection stopped answering pings: not ready until every channel is renewed. */
  private shardLost = false;

  constructor(options: PubSubOptions) {
    super(options);
    const subscriber = options.subscriber;
    this.owners = subscriber instanceof Cluster ? new ShardOwners((slot) => subscriber.slots[slot]?.[0]) : undefined;
    subscriber.on('smessage', (name: string, message: string) => this.receive(name, message));
    subscriber.on('subscribersReady', () => void this.renew(this.channels));
  }

  /** The Cluster's own connection and every shard subscriber connection, each pinged. */
  override pingTargets(): PingTarget[] {
    const targets = super.pingTargets();
    const group = (this.options.subscriber as unknown as { shardedSubscribers?: ShardedSubscriberGroup }).shardedSubscribers;
    for (const [node, shard] of group?.shardedSubscribers ?? []) {
      const connection = shard.getInstance();
      if (connection) targets.push({ label: `shard subscriber ${node}`, connection, lost: () => this.shardSilent(connection) });
    }
    return targets;
  }

  override tick(): void {
    if (this.ready && this.owners?.changed()) void this.renew(this.channels);
  }

  override close(): void {
    super.close();
    clearTimeout(this.renewRetry);
  }

  protected transport(): SubscriptionTransport {
    const subscriber = this.options.subscriber;
    return {
      // One SSUBSCRIBE may only name channels of one slot; ioredis sends it to that slot's master.
      groupOf: (channel) => keySlot(channel),
      subscribe: (channels) => subscriber.ssubscribe(...this.liveNames(channels)),
      unsubscribe: (channels) => subscriber.sunsubscribe(...this.liveNames(channels)),
    };
  }

  protected override added(channel: string): void {
    this.owners?.add(channel);
  }

  protected override removed(channel: string): void {
    this.owners?.delete(channel);
  }

  protected async restore(): Promise<void> {
    // ioredis kept its own list of shard channels across the reconnect; renewing (unsubscribe +
    // subscribe per slot) confirms each one without listing it twice there.
    const failed = await this.batch.send(this.channels, 'subscribe', true);
    this.shardLost = false;
    this.setReady(true);
    // A shard that is down (its failover under way) is retried on its own.
    if (failed.length > 0) this.retryRenewal(failed);
  }

  /**
   * A shard's connection is silent (a partition, a paused node): the broker is down until its
   * channels are renewed. Dropping the connection makes ioredis build a new one for that master.
   */
  private shardSilent(connection: Redis): void {
    this.shardLost = true;
    this.setReady(false);
    connection.disconnect();
    this.retryRenewal([...this.channels]);
  }

  private async renew(channels: Iterable<string>): Promise<void> {
    clearTimeout(this.renewRetry);
    if (this.closed || (!this.ready && !this.shardLost)) return;
    const wanted = [...channels].filter((channel) => this.channels.has(channel));
    const failed = wanted.length === 0 ? [] : await this.batch.send(wanted, 'subscribe', true);
    if (wanted.length > 0) {
      this.options.logger.info({ channels: wanted.length, failed: failed.length }, 'cluster topology changed: shard subscriptions renewed, catching up');
    }
    if (this.shardLost && failed.length === 0) {
      // Back to ready: the broker announces it, and the hub catches up on that signal.
      this.shardLost = false;
      this.setReady(true);
    } else if (failed.length < wanted.length) {
      // Channels whose shard answered catch up now; those of a shard still failing over, later.
      this.options.onCatchUp();
    }
    if (failed.length > 0) this.retryRenewal(failed);
  }

  /**
   * A renewal failed for some shards (a master down, or ioredis' slot map stale: MOVED). ioredis
   * usually rebuilds and says `subscribersReady` again; retry anyway, so a catch-up is never lost.
   */
  private retryRenewal(failed: string[]): void {
    if (!this.shardLost) this.options.logger.warn({ channels: failed.length }, 'renewing shard subscriptions failed for some channels; retrying');
    clearTimeout(this.renewRetry);
    this.renewRetry = setTimeout(() => void this.renew(failed), RENEW_RETRY_MS);
    this.renewRetry.unref();
  }
}

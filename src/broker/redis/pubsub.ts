import type { Logger } from 'pino';
import { BrokerUnavailableError } from '../../errors';
import type { RedisConnection } from './connection';
import type { RedisKeys } from './keys';
import type { PingTarget } from './ping-watchdog';
import { SubscriptionBatch, type SubscriptionTransport } from './subscription-batch';

/** Receives every message of a subscribed hub channel, by hub channel name. */
export type MessageListener = (channel: string, message: string) => void;

export interface PubSubOptions {
  readonly subscriber: RedisConnection;
  readonly keys: RedisKeys;
  readonly logger: Logger;
  /** Called whenever `ready` may have changed (the broker re-derives its status). */
  readonly onChange: () => void;
  /** Some channels may have missed events while the status stayed ready: catch up. */
  readonly onCatchUp: () => void;
}

/**
 * The subscriber side of the broker: which hub channels are subscribed, batching, restoring
 * them after a reconnect, and routing messages back by hub channel. Classic and sharded pub/sub
 * (pubsub-classic.ts, pubsub-sharded.ts) differ in how names reach Redis and how a lost
 * connection is repaired.
 */
export abstract class PubSub {
  protected readonly channels = new Set<string>();
  protected readonly batch: SubscriptionBatch;
  /** Every subscription is in place on a live connection. Only `setReady` changes it. */
  private restored = false;
  protected closed = false;
  private listener: MessageListener = () => undefined;

  constructor(protected readonly options: PubSubOptions) {
    this.batch = new SubscriptionBatch(this.transport(), (channel) => this.channels.has(channel));
    options.subscriber.on('ready', () => void this.restore());
  }

  get ready(): boolean {
    return this.restored;
  }

  onMessage(listener: MessageListener): void {
    this.listener = listener;
  }

  /** Resolves once Redis confirmed the subscription; rejects with BrokerUnavailableError. */
  async subscribe(channel: string): Promise<void> {
    if (!this.channels.has(channel)) {
      this.channels.add(channel);
      this.added(channel);
    }
    try {
      await this.batch.subscribe(channel);
    } catch (error) {
      this.forget(channel);
      throw error;
    }
  }

  unsubscribe(channel: string): void {
    if (this.forget(channel) && this.restored) this.batch.unsubscribe(channel);
  }

  /** The subscriber connection closed: nothing pending will be confirmed. */
  connectionLost(): void {
    if (this.options.subscriber.status === 'ready') return;
    this.setReady(false);
    this.batch.failPending(new BrokerUnavailableError('the subscriber connection was lost'));
  }

  /** The connections the watchdog pings for this side. */
  pingTargets(): PingTarget[] {
    const subscriber = this.options.subscriber;
    return [{ label: 'subscriber', connection: subscriber, lost: () => subscriber.disconnect(true) }];
  }

  /** Once a second, after the pings. */
  tick(): void {
    // Nothing by default.
  }

  close(): void {
    this.closed = true;
  }

  protected abstract transport(): SubscriptionTransport;
  /** Re-sends every subscription after the connection's `ready`, then calls `setReady(true)`. */
  protected abstract restore(): Promise<void>;

  protected added(channel: string): void {
    void channel;
  }

  protected removed(channel: string): void {
    void channel;
  }

  protected setReady(ready: boolean): void {
    if (ready === this.restored) return;
    this.restored = ready;
    this.options.onChange();
  }

  /** Routes a raw message; a listener's failure must never break the connection's parser. */
  protected receive(name: string, message: string): void {
    const channel = this.options.keys.channelOfLive(name);
    if (channel === undefined || !this.channels.has(channel)) return;
    try {
      this.listener(channel, message);
    } catch (error) {
      this.options.logger.error({ err: error, channel }, 'event listener failed');
    }
  }

  protected liveNames(channels: string[]): string[] {
    return channels.map((channel) => this.options.keys.live(channel));
  }

  private forget(channel: string): boolean {
    if (!this.channels.delete(channel)) return false;
    this.removed(channel);
    return true;
  }
}

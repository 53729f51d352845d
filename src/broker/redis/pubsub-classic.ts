import { PubSub, type PubSubOptions } from './pubsub';
import type { SubscriptionTransport } from './subscription-batch';

/**
 * Classic pub/sub (standalone or Sentinel): SUBSCRIBE on the one subscriber connection, any
 * number of channels per command. After a reconnect every channel is subscribed again before
 * the broker is ready; a failure waits for the connection's next `ready`.
 */
export class ClassicPubSub extends PubSub {
  constructor(options: PubSubOptions) {
    super(options);
    options.subscriber.on('message', (name: string, message: string) => this.receive(name, message));
  }

  protected transport(): SubscriptionTransport {
    const subscriber = this.options.subscriber;
    return {
      groupOf: () => 0,
      subscribe: (channels) => subscriber.subscribe(...this.liveNames(channels)),
      unsubscribe: (channels) => subscriber.unsubscribe(...this.liveNames(channels)),
    };
  }

  protected async restore(): Promise<void> {
    const failed = await this.batch.send(this.channels, 'subscribe');
    if (failed.length > 0) {
      // The connection dropped again; its next `ready` retries.
      this.options.logger.warn({ channels: failed.length }, 'resubscribe failed');
      return;
    }
    this.setReady(true);
  }
}

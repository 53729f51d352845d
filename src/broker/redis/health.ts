import type { EventEmitter } from 'node:events';
import type { BrokerStatus } from '../broker';

/** What readiness is derived from; each fact is owned by the part that observes it. */
export interface HealthInputs {
  /** The command connection is `ready` (publishes and history reads can run). */
  readonly commandReady: () => boolean;
  /** Every subscription is in place on a live subscriber connection (or every shard's). */
  readonly subscriptionsReady: () => boolean;
}

/**
 * The Redis broker's one status (like ioredis' `setStatus`): changed only by `setStatus`,
 * which also emits `down` (ready → not ready) and `resubscribed` (→ ready) on the broker.
 */
export class BrokerHealth {
  private current: BrokerStatus = 'connecting';

  constructor(
    private readonly emitter: EventEmitter,
    private readonly inputs: HealthInputs,
  ) {}

  get status(): BrokerStatus {
    return this.current;
  }

  /** Re-derives the status after any input changed. Never leaves `closed`. */
  update(): void {
    if (this.current === 'closed') return;
    if (this.inputs.commandReady() && this.inputs.subscriptionsReady()) this.setStatus('ready');
    else if (this.current === 'ready') this.setStatus('down');
  }

  /**
   * Events of some channels may have been missed although the status stays `ready` (a shard
   * changed owners): asks listeners to catch up from history, as after an outage.
   */
  catchUp(): void {
    if (this.current === 'ready') this.emitter.emit('resubscribed');
  }

  close(): void {
    this.setStatus('closed');
  }

  private setStatus(next: BrokerStatus): void {
    const previous = this.current;
    if (next === previous) return;
    this.current = next;
    if (next === 'ready') this.emitter.emit('resubscribed');
    else if (previous === 'ready' && next === 'down') this.emitter.emit('down');
  }
}

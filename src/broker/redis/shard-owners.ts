import { keySlot } from './key-slot';

/**
 * Watches, in the Cluster client's own slot map (re-read every second), which master owns each
 * slot that holds a subscribed channel. A safety net under ioredis' `subscribersReady`: if the
 * owner of such a slot changed and that announcement never reached the broker, the broker still
 * renews its shard subscriptions and catches up. Costs one look per slot in use, not per channel.
 */
export class ShardOwners {
  private readonly channelsPerSlot = new Map<number, number>();
  private readonly owners = new Map<number, string | undefined>();

  constructor(private readonly ownerOf: (slot: number) => string | undefined) {}

  add(channel: string): void {
    const slot = keySlot(channel);
    this.channelsPerSlot.set(slot, (this.channelsPerSlot.get(slot) ?? 0) + 1);
    if (!this.owners.has(slot)) this.owners.set(slot, this.ownerOf(slot));
  }

  delete(channel: string): void {
    const slot = keySlot(channel);
    const count = (this.channelsPerSlot.get(slot) ?? 0) - 1;
    if (count > 0) {
      this.channelsPerSlot.set(slot, count);
      return;
    }
    this.channelsPerSlot.delete(slot);
    this.owners.delete(slot);
  }

  /** True when some slot in use has another owner than at the last call; remembers the new ones. */
  changed(): boolean {
    let changed = false;
    for (const slot of this.channelsPerSlot.keys()) {
      const owner = this.ownerOf(slot);
      if (owner === this.owners.get(slot)) continue;
      this.owners.set(slot, owner);
      changed = true;
    }
    return changed;
  }
}

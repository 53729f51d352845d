import type { PresenceEntry, PresenceListener, PresenceSnapshot, PresenceUpdate } from './presence-types';

interface ChannelPresence {
  connections: number;
  readonly members: Map<string, PresenceEntry>;
}

/**
 * Presence for MemoryBroker: the same joins, leaves and counts as RedisPresence for the one
 * process there is. Nothing expires: the process that holds the entries is the store.
 */
export class MemoryPresence {
  private readonly channels = new Map<string, ChannelPresence>();
  private listener: PresenceListener = () => undefined;

  /** `isSubscribed` says which channels hear joins and leaves, as with events. */
  constructor(private readonly isSubscribed: (channel: string) => boolean) {}

  write(updates: readonly PresenceUpdate[]): void {
    for (const update of updates) {
      const state = this.channels.get(update.channel) ?? { connections: 0, members: new Map<string, PresenceEntry>() };
      state.connections = update.connections;
      for (const entry of update.members) {
        const earlier = state.members.get(entry.sub);
        if (entry.connections > 0) {
          state.members.set(entry.sub, earlier ? { ...entry, infoJson: earlier.infoJson } : entry);
          if (!earlier) this.announce(update.channel, 'join', entry.sub, entry.infoJson);
        } else if (earlier) {
          state.members.delete(entry.sub);
          this.announce(update.channel, 'leave', entry.sub, earlier.infoJson);
        }
      }
      if (state.connections > 0 || state.members.size > 0) this.channels.set(update.channel, state);
      else this.channels.delete(update.channel);
    }
  }

  read(channel: string): PresenceSnapshot {
    const state = this.channels.get(channel);
    return { connections: state?.connections ?? 0, members: state ? [...state.members.values()] : [] };
  }

  onPresence(listener: PresenceListener): void {
    this.listener = listener;
  }

  private announce(channel: string, signal: 'join' | 'leave', sub: string, infoJson: string): void {
    if (!this.isSubscribed(channel)) return;
    this.listener(channel, signal, `{"channel":${JSON.stringify(channel)},"sub":${JSON.stringify(sub)},"info":${infoJson}}`);
  }
}

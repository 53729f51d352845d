import {
  MAX_PRESENCE_MEMBERS,
  type PresenceEntry,
  type PresenceListener,
  type PresenceSnapshot,
  type PresenceStore,
  type PresenceUpdate,
} from '../presence-store';

interface ChannelPresence {
  connections: number;
  readonly members: Map<string, PresenceEntry>;
}

/**
 * The in-process PresenceStore: the same joins, leaves, counts and member cap as
 * RedisPresenceStore for the one process there is. Nothing expires: the process that holds the
 * entries is the store, so `ttlMs`, `renewal` and `restore` change nothing here.
 */
export class MemoryPresenceStore implements PresenceStore {
  private readonly channels = new Map<string, ChannelPresence>();
  private listener: PresenceListener = () => undefined;

  /**
   * `isSubscribed` says which channels hear joins and leaves (those the event broker delivers);
   * `maxMembers` caps the subs listed per channel (see MAX_PRESENCE_MEMBERS).
   */
  constructor(
    private readonly isSubscribed: (channel: string) => boolean,
    private readonly maxMembers = MAX_PRESENCE_MEMBERS,
  ) {}

  writePresence(updates: readonly PresenceUpdate[]): Promise<void> {
    for (const update of updates) this.apply(update);
    return Promise.resolve();
  }

  readPresence(channel: string): Promise<PresenceSnapshot> {
    const state = this.channels.get(channel);
    return Promise.resolve({ connections: state?.connections ?? 0, members: state ? [...state.members.values()] : [] });
  }

  onPresence(listener: PresenceListener): void {
    this.listener = listener;
  }

  private apply(update: PresenceUpdate): void {
    const state = this.channels.get(update.channel) ?? { connections: 0, members: new Map<string, PresenceEntry>() };
    state.connections = update.connections;
    for (const entry of update.members) {
      const earlier = state.members.get(entry.sub);
      if (entry.connections > 0) {
        // A full channel lists no newcomer; the tracker's next refresh offers it again.
        if (!earlier && state.members.size >= this.maxMembers) continue;
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

  private announce(channel: string, signal: 'join' | 'leave', sub: string, infoJson: string): void {
    if (!this.isSubscribed(channel)) return;
    this.listener(channel, signal, `{"channel":${JSON.stringify(channel)},"sub":${JSON.stringify(sub)},"info":${infoJson}}`);
  }
}

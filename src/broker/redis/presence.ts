import { randomBytes } from 'node:crypto';
import {
  MAX_PRESENCE_MEMBERS,
  type PresenceEntry,
  type PresenceListener,
  type PresenceSnapshot,
  type PresenceStore,
  type PresenceUpdate,
} from '../presence-store';
import type { RedisKeys } from './keys';
import type { CommandRunner } from './scripts';

export interface RedisPresenceStoreOptions {
  readonly commands: CommandRunner;
  readonly keys: RedisKeys;
  /** Distinct subs listed per channel (default MAX_PRESENCE_MEMBERS). */
  readonly maxMembers?: number;
}

/** Subs per script call: a refresh of a crowded channel is split so no script runs long. */
const MEMBERS_PER_CALL = 500;
/** Marks a presence message on a live pub/sub channel; event messages start with a digit. */
const SIGNAL = /^(join|leave) /;

/**
 * The PresenceStore on Redis: per channel a sorted set of this and other processes' entries
 * scored by expiry and a hash of counts and infos (presence-sync.lua), both under the channel's
 * hash tag so each script touches one Cluster slot. Joins and leaves travel on the channel's
 * event pub/sub channel; the event broker hands them over through `takeSignal`.
 */
export class RedisPresenceStore implements PresenceStore {
  /** This process's id in the entries: random, so a restarted process never inherits a dead one's. */
  readonly processId = randomBytes(8).toString('hex');
  private listener: PresenceListener = () => undefined;
  private readonly maxMembers: number;

  constructor(private readonly options: RedisPresenceStoreOptions) {
    this.maxMembers = options.maxMembers ?? MAX_PRESENCE_MEMBERS;
  }

  /** One script call per channel (per 500 subs), all sent in the same turn: one pipelined batch. */
  async writePresence(updates: readonly PresenceUpdate[], ttlMs: number): Promise<void> {
    const calls: Array<Promise<unknown>> = [];
    for (const update of updates) {
      let start = 0;
      do {
        const members = update.members.slice(start, start + MEMBERS_PER_CALL);
        start += MEMBERS_PER_CALL;
        // Only the last call of a complete update lists everything this process holds.
        const complete = update.complete === true && start >= update.members.length;
        calls.push(this.options.commands.script('presenceSync', this.options.keys.presenceKeys(update.channel), this.syncArgs(update, members, ttlMs, complete)));
      } while (start < update.members.length);
    }
    await Promise.all(calls);
  }

  async readPresence(channel: string): Promise<PresenceSnapshot> {
    const reply = await this.options.commands.script('presenceRead', this.options.keys.presenceKeys(channel), []);
    const [connections, flat] = reply as [number, Array<string | number>];
    const members: PresenceEntry[] = [];
    for (let index = 0; index + 2 < flat.length; index += 3) {
      members.push({ sub: String(flat[index]), connections: Number(flat[index + 1]), infoJson: String(flat[index + 2]) });
    }
    return { connections: Number(connections), members };
  }

  onPresence(listener: PresenceListener): void {
    this.listener = listener;
  }

  /**
   * Takes a message of a live pub/sub channel if it is a join or leave (returns true), else
   * leaves it to the event path.
   */
  takeSignal(channel: string, message: string): boolean {
    const match = SIGNAL.exec(message);
    if (!match) return false;
    this.listener(channel, match[1] as 'join' | 'leave', message.slice(match[0].length));
    return true;
  }

  private syncArgs(update: PresenceUpdate, members: readonly PresenceEntry[], ttlMs: number, complete: boolean): string[] {
    const { keys } = this.options;
    const args = [
      this.processId,
      String(ttlMs),
      keys.live(update.channel),
      keys.sharded ? 'SPUBLISH' : 'PUBLISH',
      update.channel,
      String(update.connections),
      update.renewal === true ? '1' : '0',
      update.restore === true ? '1' : '0',
      complete ? '1' : '0',
      String(this.maxMembers),
    ];
    for (const member of members) args.push(member.sub, String(member.connections), member.infoJson);
    return args;
  }
}

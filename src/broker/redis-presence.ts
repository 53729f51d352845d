import { randomBytes } from 'node:crypto';
import type { PresenceEntry, PresenceListener, PresenceSnapshot, PresenceUpdate } from './presence-types';

/** A Lua script run by the broker (EVALSHA, loaded on NOSCRIPT); see redis-broker.ts. */
export type ScriptRunner = (script: 'presenceSync' | 'presenceRead', keys: string[], args: string[]) => Promise<unknown>;

export interface RedisPresenceOptions {
  readonly prefix: string;
  /** The pub/sub channel carrying the channel's events; joins and leaves travel on it too. */
  readonly liveChannelOf: (channel: string) => string;
  /** The command that publishes on it (as publish.lua does). */
  readonly publishCommand: string;
  readonly run: ScriptRunner;
}

/** Subs per script call: a refresh of a crowded channel is split so no script runs long. */
const MEMBERS_PER_CALL = 500;
/** Marks a presence message on a live pub/sub channel; event messages start with a digit. */
const SIGNAL = /^(join|leave) /;

/**
 * Presence on Redis, for RedisBroker: per channel a sorted set of this and other processes'
 * entries scored by expiry and a hash of counts and infos (presence-sync.lua), both under the
 * channel's hash tag so each script touches one Cluster slot.
 */
export class RedisPresence {
  /** This process's id in the entries: random, so a restarted process never inherits a dead one's. */
  readonly processId = randomBytes(8).toString('hex');
  private listener: PresenceListener = () => undefined;

  constructor(private readonly options: RedisPresenceOptions) {}

  /** One script call per channel (per 500 subs), all sent in the same turn: one pipelined batch. */
  async write(updates: readonly PresenceUpdate[], ttlMs: number): Promise<void> {
    const calls: Array<Promise<unknown>> = [];
    for (const update of updates) {
      let start = 0;
      do {
        const members = update.members.slice(start, start + MEMBERS_PER_CALL);
        calls.push(this.options.run('presenceSync', this.keysOf(update.channel), this.syncArgs(update, members, ttlMs)));
        start += MEMBERS_PER_CALL;
      } while (start < update.members.length);
    }
    await Promise.all(calls);
  }

  async read(channel: string): Promise<PresenceSnapshot> {
    const [connections, flat] = (await this.options.run('presenceRead', this.keysOf(channel), [])) as [number, Array<string | number>];
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
   * leaves it to the event path. Never throws.
   */
  takeSignal(channel: string, message: string): boolean {
    const match = SIGNAL.exec(message);
    if (!match) return false;
    this.listener(channel, match[1] as 'join' | 'leave', message.slice(match[0].length));
    return true;
  }

  private keysOf(channel: string): string[] {
    const base = `${this.options.prefix}{${channel}}:presence`;
    return [base, `${base}:data`];
  }

  private syncArgs(update: PresenceUpdate, members: readonly PresenceEntry[], ttlMs: number): string[] {
    const args = [
      this.processId,
      String(ttlMs),
      this.options.liveChannelOf(update.channel),
      this.options.publishCommand,
      update.channel,
      String(update.connections),
      update.renewal === true ? '1' : '0',
    ];
    for (const member of members) args.push(member.sub, String(member.connections), member.infoJson);
    return args;
  }
}

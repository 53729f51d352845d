import type { ControlMessage, ControlStore, DisconnectMessage, Revocation, StoredRevocation } from '../control-store';
import type { StoreClock } from '../stats-store';
import { CONTROL_CHANNEL, type RedisKeys } from './keys';
import type { CommandRunner } from './scripts';

export interface RedisControlStoreOptions {
  readonly commands: CommandRunner;
  readonly keys: RedisKeys;
  /** Subscribes the broker's subscriber connection to the control channel (EventBroker.subscribe). */
  readonly subscribe: (channel: string) => Promise<void>;
  readonly clock?: StoreClock;
}

// Atomic: keep the latest `before` of a sub, index it by expiry, drop expired index entries and
// announce it, so no instance can learn of a revocation that is not stored.
// KEYS: revoked key, index. ARGV: member, value, isSub, ttlMs, nowMs, PUBLISH|SPUBLISH, channel.
const REVOKE_SCRIPT = `
local value = ARGV[2]
if ARGV[3] == '1' then
  local current = redis.call('GET', KEYS[1])
  if current and tonumber(current) > tonumber(value) then value = current end
end
local expiresAt = string.format('%d', tonumber(ARGV[5]) + tonumber(ARGV[4]))
redis.call('SET', KEYS[1], value, 'PX', ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
redis.call('ZADD', KEYS[2], expiresAt, ARGV[1])
redis.call(ARGV[6], ARGV[7], 'R ' .. expiresAt .. ' ' .. value .. ' ' .. ARGV[1])
`;
// KEYS[1] (the index) only routes the command to the control channel's slot on a Cluster.
const PUBLISH_SCRIPT = `return redis.call(ARGV[1], ARGV[2], ARGV[3])`;

/**
 * The ControlStore on Redis. Orders travel on one pub/sub channel (classic, or a shard channel
 * tagged `{#control}` on a Cluster) subscribed through the broker's subscriber connection, so a
 * process keeps one subscription connection and the channel is restored after every outage
 * with the others. Messages: `D <json>` (disconnect) and `R <expiresAtMs> <value> <member>`
 * (revocation). Revocations are keys with the TTL plus an index scored by expiry, all in one slot.
 */
export class RedisControlStore implements ControlStore {
  private listener: ((message: ControlMessage) => void) | undefined;
  private readonly clock: StoreClock;
  private readonly publishCommand: string;

  constructor(private readonly options: RedisControlStoreOptions) {
    this.clock = options.clock ?? { now: Date.now };
    this.publishCommand = options.keys.sharded ? 'SPUBLISH' : 'PUBLISH';
  }

  /**
   * Takes a message of a subscribed channel if it is the control channel's (returns true), so
   * the broker does not read it as an event. Malformed messages are dropped.
   */
  take(channel: string, message: string): boolean {
    if (channel !== CONTROL_CHANNEL) return false;
    const parsed = parseMessage(message);
    if (parsed !== undefined) this.listener?.(parsed);
    return true;
  }

  async listen(listener: (message: ControlMessage) => void): Promise<void> {
    this.listener = listener;
    await this.options.subscribe(CONTROL_CHANNEL);
  }

  async sendDisconnect(message: Omit<DisconnectMessage, 'kind'>): Promise<void> {
    const { keys } = this.options;
    const text = `D ${JSON.stringify({ kind: 'disconnect', ...message })}`;
    await this.options.commands.run((redis) => redis.eval(PUBLISH_SCRIPT, 1, keys.revocations(), this.publishCommand, keys.live(CONTROL_CHANNEL), text));
  }

  async revoke(revocation: Revocation, ttlMs: number): Promise<void> {
    const { keys } = this.options;
    const member = 'jti' in revocation ? `jti:${revocation.jti}` : `sub:${revocation.sub}`;
    const value = 'jti' in revocation ? '1' : String(Math.trunc(revocation.beforeMs));
    await this.options.commands.run((redis) =>
      redis.eval(REVOKE_SCRIPT, 2, keys.revoked(member), keys.revocations(), member, value, 'jti' in revocation ? '0' : '1', String(ttlMs), String(this.clock.now()), this.publishCommand, keys.live(CONTROL_CHANNEL)),
    );
  }

  async loadRevocations(): Promise<StoredRevocation[]> {
    const { keys } = this.options;
    const nowMs = this.clock.now();
    const index = keys.revocations();
    const listed = await this.options.commands.run(async (redis) => {
      await redis.zremrangebyscore(index, '-inf', String(nowMs));
      return redis.zrange(index, '0', '-1', 'WITHSCORES');
    });
    const members: Array<{ member: string; expiresAtMs: number }> = [];
    for (let i = 0; i + 1 < listed.length; i += 2) members.push({ member: listed[i] ?? '', expiresAtMs: Number(listed[i + 1]) });
    if (members.length === 0) return [];
    // One slot ({#control}), so one MGET on a Cluster too.
    const values = await this.options.commands.run((redis) => redis.mget(...members.map(({ member }) => keys.revoked(member))));
    const stored: StoredRevocation[] = [];
    members.forEach(({ member, expiresAtMs }, index) => {
      const revocation = toRevocation(member, values[index] ?? null);
      if (revocation !== undefined) stored.push({ revocation, expiresAtMs });
    });
    return stored;
  }

  async deleteHistory(channel: string): Promise<void> {
    const { keys } = this.options;
    // Both keys carry the channel's hash tag: one slot, one command.
    await this.options.commands.run((redis) => redis.del(keys.counter(channel), keys.history(channel)));
  }
}

function toRevocation(member: string, value: string | null): Revocation | undefined {
  if (value === null) return undefined;
  if (member.startsWith('jti:')) return { jti: member.slice(4) };
  if (member.startsWith('sub:') && Number.isFinite(Number(value))) return { sub: member.slice(4), beforeMs: Number(value) };
  return undefined;
}

function parseMessage(message: string): ControlMessage | undefined {
  if (message.startsWith('D ')) {
    try {
      const order = JSON.parse(message.slice(2)) as Partial<DisconnectMessage>;
      if (typeof order.sub !== 'string' || typeof order.reason !== 'string' || typeof order.reconnect !== 'boolean') return undefined;
      return { kind: 'disconnect', sub: order.sub, reason: order.reason, reconnect: order.reconnect, ...(typeof order.channel === 'string' ? { channel: order.channel } : {}) };
    } catch {
      return undefined;
    }
  }
  const match = /^R (\d+) (\d+) (.+)$/s.exec(message);
  if (match === null) return undefined;
  const revocation = toRevocation(match[3] ?? '', match[2] ?? null);
  return revocation === undefined ? undefined : { kind: 'revoke', revocation, expiresAtMs: Number(match[1]) };
}

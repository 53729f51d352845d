import type { Config } from '../../config';

/** A host and port of a Redis Sentinel or Cluster node. */
export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Where the Redis broker connects, and under which key prefix: exactly one of `clusterNodes`,
 * `sentinels` (with `sentinelName`) or `url` is used, in that order of precedence.
 */
export interface RedisTarget {
  readonly url?: string;
  readonly sentinels?: readonly RedisNodeAddress[];
  /** The master's name at the sentinels; default `mymaster`. */
  readonly sentinelName?: string;
  /** A Redis Cluster: sharded pub/sub (SSUBSCRIBE / SPUBLISH) in each channel's slot. */
  readonly clusterNodes?: readonly RedisNodeAddress[];
  /**
   * Pub/sub kind; default `sharded` on a Cluster, else `classic`. Classic on a Cluster copies
   * every message to every node over the cluster bus (kept to measure exactly that).
   */
  readonly pubsub?: 'classic' | 'sharded';
  /** Prepended to every key and pub/sub channel (REDIS_PREFIX). */
  readonly keyPrefix: string;
}

/** The Redis target of a configuration, or undefined when none is set (in-process broker). */
export function redisTargetOf(config: Config): RedisTarget | undefined {
  const target: RedisTarget = {
    url: config.redisUrl,
    sentinels: config.redisSentinels,
    sentinelName: config.redisSentinelName,
    clusterNodes: config.redisClusterNodes,
    keyPrefix: config.redisPrefix,
  };
  return isCluster(target) || isSentinel(target) || target.url !== undefined ? target : undefined;
}

export function isCluster(target: RedisTarget): boolean {
  return (target.clusterNodes?.length ?? 0) > 0;
}

export function isSentinel(target: RedisTarget): boolean {
  return (target.sentinels?.length ?? 0) > 0;
}

/** Where the broker connects, for logs; never includes a password. */
export function describeRedisTarget(target: RedisTarget): string {
  if (isCluster(target)) {
    return `Redis Cluster (${(target.clusterNodes ?? []).map((node) => `${node.host}:${node.port}`).join(', ')})`;
  }
  if (isSentinel(target)) return `Redis via Sentinel (master ${target.sentinelName ?? ''})`;
  const url = new URL(target.url ?? 'redis://127.0.0.1:6379');
  return `Redis at ${url.protocol}//${url.host}`;
}

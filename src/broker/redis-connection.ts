import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config';

/** A standalone, Sentinel-managed or Cluster connection: the broker needs only what they share. */
export type RedisConnection = Redis | Cluster;

/** Where the broker connects, for logs; never includes a password. */
export function describeRedisTarget(config: Config): string {
  if (config.redisClusterNodes.length > 0) {
    return `Redis Cluster (${config.redisClusterNodes.map((node) => `${node.host}:${node.port}`).join(', ')})`;
  }
  if (config.redisSentinels.length > 0) {
    return `Redis via Sentinel (master ${config.redisSentinelName ?? ''})`;
  }
  const url = new URL(config.redisUrl ?? 'redis://127.0.0.1:6379');
  return `Redis at ${url.protocol}//${url.host}`;
}

/** True when some form of Redis is configured; otherwise the in-process broker serves. */
export function usesRedis(config: Config): boolean {
  return config.redisUrl !== undefined || config.redisSentinels.length > 0 || config.redisClusterNodes.length > 0;
}

// Fail fast instead of queueing: a publish during an outage must answer 503 at once, and a
// command lost with its connection must not be re-sent (a re-sent publish would be a duplicate).
const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  // The broker restores subscriptions itself, then catches up from history.
  autoResubscribe: false,
  retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
  // A connection dropped for not answering (see the broker's pings) must close now, not in 2 s.
  disconnectTimeout: 100,
  lazyConnect: true,
};

/** Opens one connection of the configured kind (not yet connected: call `connect()`). */
export function createRedisConnection(config: Config, connectionName: string): RedisConnection {
  const options: RedisOptions = { ...FAIL_FAST, connectionName };
  if (config.redisClusterNodes.length > 0) {
    const { retryStrategy, enableOfflineQueue, ...redisOptions } = options;
    return new Cluster([...config.redisClusterNodes], {
      redisOptions,
      enableOfflineQueue: enableOfflineQueue ?? false,
      clusterRetryStrategy: retryStrategy as (attempt: number) => number,
      lazyConnect: true,
    });
  }
  if (config.redisSentinels.length > 0) {
    return new Redis({
      ...options,
      sentinels: [...config.redisSentinels],
      name: config.redisSentinelName ?? 'mymaster',
    });
  }
  return new Redis(config.redisUrl ?? 'redis://127.0.0.1:6379', options);
}

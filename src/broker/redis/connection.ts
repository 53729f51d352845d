import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { isCluster, isSentinel, type RedisTarget } from './target';

/** A standalone, Sentinel-managed or Cluster connection: the broker needs only what they share. */
export type RedisConnection = Redis | Cluster;

// Fail fast instead of queueing: a publish during an outage must answer 503 at once, and a
// command lost with its connection must not be re-sent (a re-sent publish would be a duplicate).
const FAIL_FAST = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  // The broker restores subscriptions itself, then catches up from history.
  autoResubscribe: false,
  // A connection dropped for not answering (see the broker's pings) must close now, not in 2 s.
  disconnectTimeout: 100,
  lazyConnect: true,
} as const satisfies RedisOptions;

const reconnectDelayMs = (attempt: number): number => Math.min(50 * attempt, 1000);

const CLUSTER_CHECK_INTERVAL_MS = 1000;

/**
 * How often a Cluster connection re-reads the slot map even when nothing told it to. A failover
 * or a migration usually announces itself (MOVED, a closed connection, the `sunsubscribe` Redis
 * sends when a slot leaves a node); this bounds the time to notice when nothing did.
 */
const SLOTS_REFRESH_INTERVAL_MS = 1000;

/**
 * A Cluster stays `ready` while its pool holds node connections that were never opened, even when
 * every node is gone, so the broker would never notice an outage. Pinging every node (replicas
 * too: the pool drains only when all are gone) each second opens them: a node that cannot be
 * reached leaves the pool, and once none is left the Cluster emits `close` and reconnects from
 * the startup nodes (`ready` again when the cluster returns).
 */
function watchClusterNodes(cluster: Cluster): void {
  const timer = setInterval(() => {
    if (cluster.status !== 'ready') return;
    for (const node of cluster.nodes('all')) node.ping().catch(() => undefined);
  }, CLUSTER_CHECK_INTERVAL_MS);
  timer.unref();
  cluster.once('end', () => clearInterval(timer));
}

/** The broker's two connections: scripts and reads, and the single subscriber. */
export type ConnectionPurpose = 'commands' | 'subscriptions';

/**
 * Opens one connection of the configured kind (not yet connected: call `connect()`).
 *
 * - Cluster (`clusterNodes`, REDIS_CLUSTER_NODES): commands go to the master of their key's slot; every key of
 *   a channel shares the hash tag `{channel}`, so each script runs on one node, and its SPUBLISH
 *   stays within that node's shard (a classic PUBLISH would be copied to every node over the
 *   cluster bus). The subscriptions connection uses ioredis' sharded subscribers: one pub/sub
 *   connection per master that owns a subscribed channel, SSUBSCRIBE routed by slot.
 * - Sentinel (`sentinels` + `sentinelName`, REDIS_SENTINELS + REDIS_SENTINEL_NAME): asks the sentinels for the master, and
 *   asks again after every reconnect, so a failover is followed.
 * - Otherwise `url` (REDIS_URL).
 */
export function createRedisConnection(target: RedisTarget, connectionName: string, purpose: ConnectionPurpose): RedisConnection {
  // Commands issued in one tick (concurrent publishes) go out in one write: fewer syscalls.
  const enableAutoPipelining = purpose === 'commands';
  if (isCluster(target)) {
    const { enableOfflineQueue, ...redisOptions } = FAIL_FAST;
    const cluster = new Cluster([...(target.clusterNodes ?? [])], {
      redisOptions: { ...redisOptions, connectionName },
      enableAutoPipelining,
      enableOfflineQueue,
      lazyConnect: true,
      clusterRetryStrategy: reconnectDelayMs,
      slotsRefreshInterval: SLOTS_REFRESH_INTERVAL_MS,
      shardedSubscribers: purpose === 'subscriptions',
      // ioredis re-sends a command whose node connection closed; for a publish that may already
      // have run, that would store it twice. Fail it instead (the publisher gets 503 and retries,
      // with an Idempotency-Key if it must not duplicate). MOVED, ASK, TRYAGAIN and CLUSTERDOWN
      // replies mean "not run" and stay retried.
      retryDelayOnFailover: 0,
    });
    watchClusterNodes(cluster);
    return cluster;
  }
  const options: RedisOptions = { ...FAIL_FAST, connectionName, retryStrategy: reconnectDelayMs, enableAutoPipelining };
  if (isSentinel(target)) {
    return new Redis({
      ...options,
      sentinels: [...(target.sentinels ?? [])],
      name: target.sentinelName ?? 'mymaster',
      sentinelRetryStrategy: reconnectDelayMs,
      // On a failover Sentinel makes the old master a replica and kills its clients, so both
      // connections reconnect and ask the sentinels again. A write that still reaches a demoted
      // master (READONLY) forces that reconnect too. (ioredis' `failoverDetector` is left off: its
      // disconnect can land on a reconnect in progress and end the connection for good.)
      reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
    });
  }
  return new Redis(target.url ?? 'redis://127.0.0.1:6379', options);
}

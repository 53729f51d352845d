import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/redis-server';
import { eventually } from '../helpers/eventually';

const run = promisify(execFile);

/** Runs `redis-cli -p port args…` and returns its raw stdout (one reply element per line). */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--raw', ...args], { timeout: 5000 });
  return stdout;
}

/** Polls `check` every `intervalMs` until it returns true; rejects with `what` after `timeoutMs`. */
export async function pollUntil(check: () => Promise<boolean>, what: string, timeoutMs = 15_000, intervalMs = 100): Promise<void> {
  await eventually(check, what, { timeoutMs, intervalMs });
}

/** One redis-server (or sentinel) process in its own temporary directory. */
export interface RedisProcess {
  readonly port: number;
  readonly dir: string;
  readonly child: ChildProcess;
  /** SIGKILLs the process (an outage) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again after `kill()`, with the same arguments, port and directory. */
  restart(): Promise<void>;
}

async function launch(args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/Ready to accept connections|Sentinel ID is/.test(output)) {
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`redis-server exited with ${String(code)}: ${output}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/** Spawns `redis-server` with `args` (the port and dir are added) and waits until it accepts connections. */
export async function spawnRedis(args: string[], options: { port?: number; configFile?: (dir: string, port: number) => string } = {}): Promise<RedisProcess> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-ops-'));
  const configArgs = options.configFile ? [options.configFile(dir, port)] : [];
  const fullArgs = [...configArgs, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...args];
  let child = await launch(fullArgs);
  return {
    port,
    dir,
    get child() {
      return child;
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
    restart: async () => {
      child = await launch(fullArgs);
    },
  };
}

async function stopAll(processes: RedisProcess[]): Promise<void> {
  await Promise.all(processes.map((process) => process.kill()));
  for (const process of processes) rmSync(process.dir, { recursive: true, force: true });
}

/** A three-master Redis Cluster on free ports (optionally with replicas). */
export interface RedisCluster {
  readonly ports: readonly number[];
  readonly nodes: readonly RedisProcess[];
  /** Resolves once `CLUSTER INFO` says `cluster_state:ok` on every node. */
  waitUntilOk(): Promise<void>;
  /** `REDIS_CLUSTER_NODES` for the hub. */
  readonly nodesEnv: string;
  /** The slot of `key` (`CLUSTER KEYSLOT`). */
  keySlot(key: string): Promise<number>;
  /** `CLIENT LIST` lines of every node. */
  clientList(): Promise<string[]>;
  stop(): Promise<void>;
}

function clusterStateOk(info: string, nodeCount: number): boolean {
  return /cluster_state:ok/.test(info) && /cluster_slots_assigned:16384/.test(info) && new RegExp(`cluster_known_nodes:${nodeCount}\\b`).test(info);
}

/**
 * Starts three cluster-enabled masters (plus `replicasPerMaster` replicas of each), joins them
 * with `redis-cli --cluster create`, waits for `cluster_state:ok` everywhere.
 */
export async function startRedisCluster(replicasPerMaster = 0): Promise<RedisCluster> {
  const nodes: RedisProcess[] = [];
  const nodeCount = 3 * (1 + replicasPerMaster);
  try {
    for (let index = 0; index < nodeCount; index++) {
      nodes.push(
        await spawnRedis([], {
          configFile: (dir, port) => {
            const file = join(dir, 'redis.conf');
            writeFileSync(file, `cluster-enabled yes\ncluster-config-file ${join(dir, `nodes-${port}.conf`)}\ncluster-node-timeout 2000\nrepl-diskless-sync-delay 0\n`);
            return file;
          },
        }),
      );
    }
    const ports = nodes.map((node) => node.port);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'], {
      timeout: 20_000,
    });
    const waitUntilOk = async (): Promise<void> => {
      for (const node of nodes) {
        // A killed node (a failover test) stays down; the others must agree the cluster is ok.
        if (node.child.exitCode !== null || node.child.signalCode !== null) continue;
        await pollUntil(async () => clusterStateOk(await redisCli(node.port, 'CLUSTER', 'INFO'), nodeCount), `cluster_state:ok on ${node.port}`);
      }
    };
    await waitUntilOk();
    if (replicasPerMaster > 0) {
      // `--cluster create` makes every node a master, then turns some into replicas: wait until
      // every node sees the final roles and every replica is in sync, so tests pick real masters.
      for (const port of ports) {
        await pollUntil(async () => {
          const lines = (await redisCli(port, 'CLUSTER', 'NODES')).split('\n').filter((line) => line.trim() !== '');
          const masters = lines.filter((line) => / (myself,)?master /.test(line)).length;
          const replicas = lines.filter((line) => / (myself,)?slave /.test(line)).length;
          return masters === 3 && replicas === 3 * replicasPerMaster;
        }, `the final roles as seen from ${port}`);
        const info = await redisCli(port, 'INFO', 'replication');
        if (info.includes('role:slave')) {
          await pollUntil(async () => /master_link_status:up/.test(await redisCli(port, 'INFO', 'replication')), `the replica ${port} to sync`);
        }
      }
    }
    return {
      ports,
      nodes,
      waitUntilOk,
      nodesEnv: ports.map((port) => `127.0.0.1:${port}`).join(','),
      keySlot: async (key) => Number((await redisCli(ports[0]!, 'CLUSTER', 'KEYSLOT', key)).trim()),
      clientList: async () => {
        const lists = await Promise.all(ports.map((port) => redisCli(port, 'CLIENT', 'LIST')));
        return lists.flatMap((list) => list.split('\n').filter((line) => line.trim() !== ''));
      },
      stop: () => stopAll(nodes),
    };
  } catch (error) {
    await stopAll(nodes);
    throw error;
  }
}

/** A master, replicas and sentinels monitoring them as `masterName`. */
export interface SentinelSetup {
  readonly masterName: string;
  /** Every data server; the first started as the master. */
  readonly servers: readonly RedisProcess[];
  /** `REDIS_SENTINELS` for the hub. */
  readonly sentinelsEnv: string;
  /** Runs a command on the first sentinel. */
  sentinel(...args: string[]): Promise<string>;
  /** The master as the sentinels currently report it, and the live replicas synced with it. */
  roles(): Promise<{ master: RedisProcess; replicas: RedisProcess[] }>;
  stop(): Promise<void>;
}

/** Starts a master, `replicaCount` replicas (`--replicaof`) and sentinels with short failover timings. */
export async function startSentinelSetup(replicaCount = 2, sentinelCount = 1, masterName = 'mymaster'): Promise<SentinelSetup> {
  const processes: RedisProcess[] = [];
  try {
    // Without the default 5 s wait before a diskless full sync, replicas are in sync at once.
    const syncAtOnce = ['--repl-diskless-sync-delay', '0'];
    const master = await spawnRedis(syncAtOnce);
    processes.push(master);
    const servers = [master];
    for (let index = 0; index < replicaCount; index++) {
      const replica = await spawnRedis([...syncAtOnce, '--replicaof', '127.0.0.1', String(master.port)]);
      processes.push(replica);
      servers.push(replica);
    }
    for (const replica of servers.slice(1)) {
      await pollUntil(async () => /master_link_status:up/.test(await redisCli(replica.port, 'INFO', 'replication')), 'a replica to sync');
    }
    const sentinels: RedisProcess[] = [];
    for (let index = 0; index < sentinelCount; index++) {
      const sentinel = await spawnRedis(['--sentinel'], {
        configFile: (dir) => {
          // Sentinel rewrites its config file, so each one gets its own copy.
          const file = join(dir, 'sentinel.conf');
          writeFileSync(
            file,
            [
              `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1`,
              `sentinel down-after-milliseconds ${masterName} 1000`,
              // Also the pause before Sentinel will fail the same master over again (twice this).
              `sentinel failover-timeout ${masterName} 1000`,
              '',
            ].join('\n'),
          );
          return file;
        },
      });
      sentinels.push(sentinel);
      processes.push(sentinel);
    }
    const sentinel = (...args: string[]): Promise<string> => redisCli(sentinels[0]!.port, ...args);
    const roles = async (): Promise<{ master: RedisProcess; replicas: RedisProcess[] }> => {
      const masterPort = Number((await sentinel('SENTINEL', 'get-master-addr-by-name', masterName)).trim().split('\n')[1]);
      const current = servers.find((server) => server.port === masterPort);
      if (!current) throw new Error(`the sentinel names an unknown master on port ${masterPort}`);
      const replicas: RedisProcess[] = [];
      for (const server of servers) {
        if (server === current || server.child.exitCode !== null || server.child.signalCode !== null) continue;
        const info = await redisCli(server.port, 'INFO', 'replication');
        if (info.includes(`master_port:${masterPort}`) && /master_link_status:up/.test(info)) replicas.push(server);
      }
      return { master: current, replicas };
    };
    // The sentinel must know the replicas before a failover can promote one.
    await pollUntil(
      async () => new RegExp(`num-slaves\\n${replicaCount}\\b`).test(await sentinel('SENTINEL', 'master', masterName)),
      'the sentinel to discover the replicas',
    );
    return {
      masterName,
      servers,
      sentinelsEnv: sentinels.map((process) => `127.0.0.1:${process.port}`).join(','),
      sentinel,
      roles,
      stop: () => stopAll(processes),
    };
  } catch (error) {
    await stopAll(processes);
    throw error;
  }
}

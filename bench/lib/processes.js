// Child processes of the benchmark: the throwaway redis-server, the servers under test and the
// load clients. Every one is tracked and killed when the benchmark ends, also on failure.
'use strict';
const { spawn, fork } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const http = require('node:http');

const ROOT = path.join(__dirname, '..', '..');
const CLOCK_TICKS_PER_SECOND = 100;
const children = new Set();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills every tracked child (its whole process group when it has one). Synchronous, idempotent. */
function killAll() {
  for (const child of children) {
    for (const target of child.ownGroup ? [-child.pid, child.pid] : [child.pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

function track(child, ownGroup) {
  child.ownGroup = ownGroup;
  child.exited = false;
  children.add(child);
  child.once('exit', (code, signal) => {
    child.exited = true;
    child.exitCode_ = code;
    child.exitSignal = signal;
    children.delete(child);
  });
  return child;
}

/** A TCP port that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function waitForExit(child, timeoutMs) {
  if (child.exited) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Stops a child gracefully (SIGTERM to its group), then SIGKILL after `graceMs`. */
async function stop(child, graceMs = 6000) {
  if (child.exited) return;
  try {
    process.kill(child.ownGroup ? -child.pid : child.pid, 'SIGTERM');
  } catch {
    return;
  }
  if (!(await waitForExit(child, graceMs))) {
    try {
      process.kill(child.ownGroup ? -child.pid : child.pid, 'SIGKILL');
    } catch {
      // gone
    }
    await waitForExit(child, 2000);
  }
}

/** Starts `redis-server` on a free port without persistence; resolves with its URL and child. */
async function startRedis() {
  const port = await freePort();
  const child = track(
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '1000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
    true,
  );
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output.slice(-400)}`)), 10_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => reject(new Error(`redis-server exited: ${output.slice(-400)}`)));
  });
  child.stdout.resume();
  return { url: `redis://127.0.0.1:${port}`, port, child };
}

function httpGet(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
    });
    request.on('error', () => resolve(0));
    request.setTimeout(1000, () => request.destroy());
  });
}

function tcpConnects(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts a server under test: `hub` (dist/server.js), `before` (BENCH_BEFORE_ENTRY), `baseline`
 * (bench/baseline.js) or `floor` (bench/floor.js), in its own process group, with `env` added to its environment. Resolves once
 * it serves (the hub's /readyz answers 200 from every worker).
 */
async function startTarget(kind, { redisUrl, prefix, workers = 1, nodeFlags = [], env: extraEnv = {} }) {
  const port = await freePort();
  // BENCH_HUB_ENTRY measures another build of the hub (e.g. a candidate fix) against the baseline.
  // `before` is an earlier build of the hub (BENCH_BEFORE_ENTRY), measured in the same run.
  const hubEntry = process.env.BENCH_HUB_ENTRY || path.join(ROOT, 'dist', 'server.js');
  const isHub = kind === 'hub' || kind === 'before';
  const script = kind === 'hub' ? hubEntry : kind === 'before' ? process.env.BENCH_BEFORE_ENTRY : path.join(ROOT, 'bench', `${kind}.js`);
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    MAX_CLIENTS: '20000',
    WORKERS: String(workers),
    SESSION_KEYS: 'bench-session-key-not-secret',
    NODE_ENV: 'development',
    ...extraEnv,
  };
  const child = track(spawn(process.execPath, [...nodeFlags, script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }), true);
  let output = '';
  const collect = (chunk) => {
    output = (output + chunk).slice(-4000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  child.output = () => output;
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exited) throw new Error(`${kind} exited at start: ${output.slice(-600)}`);
    if (Date.now() > deadline) throw new Error(`${kind} did not become ready: ${output.slice(-600)}`);
    if (isHub) {
      const statuses = [];
      for (let i = 0; i < 2 * workers; i++) statuses.push(await httpGet(`${url}/readyz`));
      if (statuses.every((status) => status === 200)) break;
    } else if (await tcpConnects(port)) {
      break;
    }
    await sleep(50);
  }
  return { kind, url, port, child, pid: child.pid };
}

function descendants(pid) {
  const found = [pid];
  try {
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      const text = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const child of text ? text.split(/\s+/) : []) found.push(...descendants(Number(child)));
    }
  } catch {
    // exited meanwhile
  }
  return found;
}

/** CPU seconds (user + system) and RSS bytes of a process and all its descendants, from /proc. */
function usage(pid) {
  let ticks = 0;
  let rssBytes = 0;
  for (const one of descendants(pid)) {
    try {
      const stat = fs.readFileSync(`/proc/${one}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      const status = fs.readFileSync(`/proc/${one}/status`, 'utf8');
      rssBytes += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, rssBytes };
}

/** Forks a load client and returns `call(cmd, args)` for it. */
function startLoadClient(name) {
  const child = track(fork(path.join(__dirname, '..', 'load-client.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), false);
  const waiting = new Map();
  let seq = 0;
  child.on('message', (message) => {
    const pending = waiting.get(message.seq);
    if (!pending) return;
    waiting.delete(message.seq);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(new Error(`${name}: ${message.error}`));
  });
  child.once('exit', (code, signal) => {
    for (const pending of waiting.values()) pending.reject(new Error(`${name} exited (${code ?? signal})`));
    waiting.clear();
  });
  const call = (cmd, args = {}) =>
    new Promise((resolve, reject) => {
      if (child.exited) return reject(new Error(`${name} is not running`));
      seq++;
      waiting.set(seq, { resolve, reject });
      child.send({ seq, cmd, args });
    });
  return { name, child, call };
}

module.exports = { ROOT, sleep, killAll, stop, startRedis, startTarget, usage, startLoadClient };

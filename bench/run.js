#!/usr/bin/env node
// The benchmark: the hub against two references in the same run, interleaved (floor, baseline,
// hub, floor, baseline, hub, …), each measurement on a fresh server process and a fresh key prefix
// of one throwaway redis-server; medians over the rounds are compared. The baseline
// (bench/baseline.js) is a bare node:http server with the hub's Redis layout and publish script;
// the floor (bench/floor.js) is the least such a server can do: PSUBSCRIBE, bare PUBLISH, no history.
// Writes bench/results/latest.md, latest.svg and raw/latest.json (or smoke-* with BENCH_SMOKE=1).
//
// Env: BENCH_SMOKE=1 tiny sizes, one round (exit 1 only on loss/dup/reorder or a crash);
//      BENCH_ROUNDS=n; BENCH_ONLY=key,key (scenario keys, e.g. saturation,publish);
//      BENCH_HUB_ENTRY=path/to/server.js measures another build of the hub (default dist/server.js);
//      BENCH_RESULTS_NAME=name writes bench/results/raw/name.* instead of results/latest.*;
//      BENCH_CPU_PROF=dir runs every server under `node --cpu-prof` writing profiles to dir;
//      BENCH_KINDS=floor,baseline,hub which servers to measure (default all three);
//      BENCH_BEFORE_ENTRY=path/to/old/dist/server.js also measures that earlier build of the hub
//      ("before") in every round, and the report compares hub with it (did a change cost anything?).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Redis } = require('ioredis');
const processes = require('./lib/processes');
const scenarios = require('./lib/scenarios');
const report = require('./lib/report');

const SMOKE = process.env.BENCH_SMOKE === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (SMOKE ? 1 : 3));
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
// BENCH_KINDS=floor,hub measures only some of the servers (a quick check; the report shows n/a).
// BENCH_BEFORE_ENTRY=old/dist/server.js adds `before`, an earlier build of the hub, to every round.
const BEFORE = process.env.BENCH_BEFORE_ENTRY ? ['before'] : [];
const KINDS = process.env.BENCH_KINDS ? process.env.BENCH_KINDS.split(',') : ['floor', 'baseline', ...BEFORE, 'hub'];

const FULL = {
  idle: { clients: 5000, settleMs: 2000 },
  connect: { counts: [1000, 10000], concurrency: 200, rate: 20, loadMs: 2000, settleMs: 500 },
  // Every count at every rate, then `extra` [clients, rate] pairs (issue #24's overload: 10,000 × 100).
  fanout: { counts: [100, 1000, 5000], rates: [100, 1000], extra: [[10000, 100]], warmupMs: 1000, measureMs: 4000 },
  saturation: { clients: 1000, rate: 0, publishers: 16, warmupMs: 1000, measureMs: 4000 },
  publish: { warmupMs: 1000, measureMs: 3000, publishers: 16 },
  storm: { clients: 2000, behind: 100, liveRate: 20, liveMs: 4000 },
  multi: { clients: 1000, channelCount: 16, perStream: 4, rate: 100, warmupMs: 1000, measureMs: 4000 },
  // 10 s at 1,000 events/s: every one of the 10,000 channels gets one event.
  many: { streams: 10000, rate: 1000, warmupMs: 1000, measureMs: 9000, settleMs: 2000 },
};
const TINY = {
  idle: { clients: 50, settleMs: 300 },
  connect: { counts: [100], concurrency: 50, rate: 20, loadMs: 300, settleMs: 100 },
  fanout: { counts: [50], rates: [100], extra: [], warmupMs: 200, measureMs: 800 },
  saturation: { clients: 50, rate: 0, publishers: 4, warmupMs: 200, measureMs: 800 },
  publish: { warmupMs: 200, measureMs: 600, publishers: 4 },
  storm: { clients: 50, behind: 100, liveRate: 100, liveMs: 800 },
  multi: { clients: 40, channelCount: 16, perStream: 4, rate: 100, warmupMs: 100, measureMs: 500 },
  many: { streams: 200, rate: 200, warmupMs: 100, measureMs: 500, settleMs: 200 },
};
const SIZES = SMOKE ? TINY : FULL;

const startedAt = Date.now();
const stamp = () => {
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  return `[${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}]`;
};
const log = (line) => process.stdout.write(`${stamp()} ${line}\n`);

/** The steps, in order; each runs on baseline and hub in every round. */
function plan() {
  const steps = [{ key: 'idle', title: `idle: ${SIZES.idle.clients} open streams`, run: (ctx, t) => scenarios.idle(ctx, t, SIZES.idle) }];
  for (const clients of SIZES.connect.counts) {
    steps.push({
      key: `connect-${clients}`,
      title: `opening streams: ${clients} on one channel, ${SIZES.connect.concurrency} at a time`,
      run: (ctx, t) => scenarios.connect(ctx, t, { ...SIZES.connect, clients }),
    });
  }
  const fanouts = SIZES.fanout.rates.flatMap((rate) => SIZES.fanout.counts.map((clients) => [clients, rate])).concat(SIZES.fanout.extra);
  for (const [clients, rate] of fanouts) {
    steps.push({
      key: `fanout-${clients}x${rate}`,
      title: `fan-out: ${clients} clients × ${rate} ev/s`,
      fanout: { clients, rate },
      run: (ctx, t) => scenarios.fanout(ctx, t, { ...SIZES.fanout, clients, rate }),
    });
  }
  steps.push(
    { key: 'saturation', title: `saturation: ${SIZES.saturation.clients} clients, ${SIZES.saturation.publishers} publishers flat out`, run: (ctx, t) => scenarios.fanout(ctx, t, SIZES.saturation) },
    { key: 'publish', title: `publish path: ${SIZES.publish.publishers} publishers, no streams`, run: (ctx, t) => scenarios.publishPath(ctx, t, SIZES.publish) },
    // The same publishes, each checked against its namespace's schema (CHANNELS_CONFIG): the
    // report compares it with the hub's plain publish row (target >= 0.9x).
    {
      key: 'publish-schema',
      kinds: ['hub'],
      title: `publish path with a schema: ${SIZES.publish.publishers} publishers, no streams, data validated (CHANNELS_CONFIG)`,
      env: { hub: { CHANNELS_CONFIG: path.join(__dirname, 'lib', 'channels-schema.json') }, before: { CHANNELS_CONFIG: path.join(__dirname, 'lib', 'channels-schema.json') } },
      run: (ctx, t) => scenarios.publishPath(ctx, t, SIZES.publish),
    },
    // The floor keeps no history, so it cannot serve a resume.
    { key: 'storm', kinds: ['baseline', 'hub'], title: `reconnect storm: ${SIZES.storm.clients} clients, ${SIZES.storm.behind} events behind`, run: (ctx, t) => scenarios.storm(ctx, t, SIZES.storm) },
    {
      key: 'multi',
      title: `multi-channel: ${SIZES.multi.clients} clients × ${SIZES.multi.perStream} of ${SIZES.multi.channelCount} channels, ${SIZES.multi.rate} ev/s`,
      run: (ctx, t) => scenarios.multi(ctx, t, SIZES.multi),
    },
    {
      key: 'many',
      title: `many channels: ${SIZES.many.streams} streams on a channel each, ${SIZES.many.rate} ev/s`,
      // As issue #13 asks: the baseline subscribes once with a pattern here, as the floor does.
      env: { baseline: { BASELINE_PATTERN: '1' } },
      run: (ctx, t) => scenarios.many(ctx, t, SIZES.many),
    },
  );
  return steps.filter((step) => !ONLY || ONLY.has(step.key));
}

function summarize(result) {
  const m = result.metrics;
  const parts = [];
  if (m.eventsPerSecond !== undefined) parts.push(`${Math.round(m.eventsPerSecond)} ev/s delivered`);
  if (m.requestsPerSecond !== undefined) parts.push(`${Math.round(m.requestsPerSecond)} req/s`);
  if (result.skipped) return `skipped: ${result.skipped}`;
  if (m.rssPerConnKiB !== undefined) parts.push(`${m.rssPerConnKiB.toFixed(1)} KiB/conn`);
  if (m.rssPerConnLoadKiB !== undefined) parts.push(`${m.rssPerConnLoadKiB.toFixed(1)} KiB/conn under load`);
  if (m.connectMs !== undefined && m.catchUpMs === undefined) parts.push(`connected in ${Math.round(m.connectMs)} ms`);
  if (m.catchUpMs !== undefined) parts.push(`caught up in ${Math.round(m.catchUpMs)} ms`);
  if (m.p99 !== undefined && m.p99 !== null) parts.push(`p99 ${m.p99.toFixed(2)} ms`);
  if (m.cpuPerMillion !== undefined && Number.isFinite(m.cpuPerMillion)) parts.push(`${m.cpuPerMillion.toFixed(1)} CPU s/M`);
  if (m.cpuWithRedisPerMillion !== undefined && Number.isFinite(m.cpuWithRedisPerMillion)) parts.push(`${m.cpuWithRedisPerMillion.toFixed(1)} with Redis`);
  if (m.redisSubscribedBytesPerChannel !== undefined) parts.push(`Redis ${Math.round(m.redisSubscribedBytesPerChannel)} B/channel subscribed, ${Math.round(m.redisHistoryBytesPerChannel ?? 0)} B with history`);
  parts.push(`RSS ${m.rssMb.toFixed(0)} MiB`);
  parts.push(result.correctness.ok ? 'checks ok' : `CHECK FAILED: ${result.correctness.problems.join('; ')}`);
  return parts.join(', ');
}

/** Runs one step on one fresh server; a crash or an exception is a correctness failure. */
async function measure(ctx, step, kind, round, workers = 1) {
  const prefix = `bench:${kind}${workers > 1 ? `-w${workers}` : ''}:${step.key}:${round}:${Date.now()}:`;
  // One directory per measurement: a WORKERS=2 hub writes one profile per process into it.
  const nodeFlags = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.join(CPU_PROF_DIR, `${kind}-w${workers}-${step.key}-${round}`)}`] : [];
  const target = await processes.startTarget(kind, { redisUrl: ctx.redisUrl, prefix, workers, nodeFlags, env: step.env?.[kind] });
  target.prefix = prefix;
  let result;
  try {
    result = await step.run(ctx, target);
  } catch (error) {
    result = { metrics: { rssMb: 0 }, correctness: { ok: false, streams: 0, loss: 0, duplicates: 0, reordered: 0, reconnects: 0, problems: [error.message] } };
    await ctx.subs.call('close').catch(() => undefined);
  }
  if (target.child.exited) {
    result.correctness.ok = false;
    const how = target.child.exitSignal ? `signal ${target.child.exitSignal}` : `exit code ${target.child.exitCode_}`;
    result.correctness.problems.push(`${kind} exited during the measurement (${how}): ${target.child.output().slice(-400)}`);
  }
  await processes.stop(target.child);
  const label = workers > 1 ? `${kind} WORKERS=${workers}` : kind;
  log(`${step.key} round ${round} ${label}: ${summarize(result)}`);
  return result;
}

async function main() {
  log(`ssehub benchmark${SMOKE ? ' (smoke size)' : ''}: ${ROUNDS} round(s), node ${process.version}`);
  const redis = await processes.startRedis();
  log(`redis-server on port ${redis.port}`);
  const ctx = {
    redisUrl: redis.url,
    redisPid: redis.child.pid,
    redis: new Redis(redis.url, { lazyConnect: false }),
    subs: processes.startLoadClient('subscribers'),
    pubs: processes.startLoadClient('publishers'),
  };
  ctx.redis.on('error', () => undefined);
  await Promise.all([ctx.subs.call('ping'), ctx.pubs.call('ping'), ctx.redis.ping()]);

  const results = {};
  const steps = plan();
  for (const step of steps) {
    const kinds = KINDS.filter((kind) => !step.kinds || step.kinds.includes(kind) || kind === 'before');
    results[step.key] = { step: { key: step.key, title: step.title, fanout: step.fanout }, floor: [], baseline: [], before: [], hub: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of kinds) results[step.key][kind].push(await measure(ctx, step, kind, round));
    }
  }

  const workers = { 1: [], 2: [] };
  if (!ONLY || ONLY.has('workers')) {
    const step = { key: 'workers', title: 'hub saturation, WORKERS=1 vs 2', run: (c, t) => scenarios.fanout(c, t, SIZES.saturation) };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const count of [1, 2]) workers[count].push(await measure(ctx, step, 'hub', round, count));
    }
  }

  await ctx.redis.quit().catch(() => undefined);
  const summary = report.write({ results, workers, smoke: SMOKE, rounds: ROUNDS, sizes: SIZES, startedAt, elapsedMs: Date.now() - startedAt });
  for (const line of summary.lines) log(line);
  const failures = summary.correctnessFailures;
  log(failures.length === 0 ? 'correctness: no loss, duplicate or reordering anywhere' : `correctness FAILED:\n  ${failures.join('\n  ')}`);
  return failures.length === 0 ? 0 : 1;
}

process.on('exit', processes.killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    processes.killAll();
    process.exit(130);
  });
}

/** `node bench/run.js --report FILE.json`: rewrites the report from a raw results file. */
function reportOnly(file) {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  const rounds = raw.rounds ?? Math.max(...Object.values(raw.results).map((entry) => entry.hub.length));
  const startedAtMs = raw.startedAt ?? fs.statSync(file).mtimeMs;
  const summary = report.write({ ...raw, smoke: raw.smoke ?? false, rounds, startedAt: startedAtMs, elapsedMs: raw.elapsedMs ?? 0 });
  for (const line of summary.lines) log(line);
  return 0;
}

(process.argv[2] === '--report' ? Promise.resolve().then(() => reportOnly(process.argv[3])) : main())
  .then((code) => {
    processes.killAll();
    process.exit(code);
  })
  .catch((error) => {
    process.stderr.write(`benchmark failed: ${error.stack ?? error}\n`);
    processes.killAll();
    process.exit(1);
  });

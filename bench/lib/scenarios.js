// The scenarios. Each takes the shared context (load clients, Redis, sizes) and one running
// server, and returns {metrics, correctness}. Correctness is checked on every delivery by the
// load client; here the per-stream first and last ids are compared with what was published.
'use strict';
const { sleep, usage } = require('./processes');

const MiB = 1024 * 1024;

/** Folds the load client's checks and the publisher's answers into one verdict. */
function correctnessOf(verdict, published, extra = {}) {
  const errors = verdict.errors;
  const loss = errors.missing + verdict.wrongStart + verdict.wrongEnd;
  const problems = [];
  if (loss) problems.push(`loss: ${errors.missing} ids skipped, ${verdict.wrongStart} streams started wrong, ${verdict.wrongEnd} ended short`);
  if (errors.duplicates) problems.push(`${errors.duplicates} duplicates`);
  if (errors.reordered) problems.push(`${errors.reordered} reordered`);
  if (errors.gapNotices) problems.push(`${errors.gapNotices} hub.gap notices`);
  if (errors.badStatus || errors.connectFailures) problems.push(`${errors.badStatus} bad statuses, ${errors.connectFailures} failed connects`);
  for (const one of published) if (one.failed) problems.push(`${one.failed} publishes failed (${one.lastError})`);
  if (extra.problem) problems.push(extra.problem);
  return {
    ok: problems.length === 0,
    streams: verdict.streams,
    loss,
    duplicates: errors.duplicates,
    reordered: errors.reordered,
    reconnects: errors.reconnects,
    problems: [...problems, ...(problems.length ? [...verdict.examples, ...errors.examples] : [])],
  };
}

/** Publishes, waits for every stream to have the last id, and verifies first..last everywhere. */
async function settleAndVerify(ctx, firstId, lastId, timeoutMs) {
  const waited = await ctx.subs.call('waitFor', { id: lastId, timeoutMs });
  const verdict = await ctx.subs.call('verify', { firstId, lastId });
  return { waited, verdict };
}

/** Idle memory: RSS growth per open stream. */
async function idle(ctx, target, { clients, settleMs }) {
  const channel = 'idle';
  await sleep(settleMs / 2);
  const before = usage(target.pid).rssBytes;
  const connected = await ctx.subs.call('connect', { url: target.url, channel, count: clients, concurrency: 200 });
  await sleep(settleMs);
  const after = usage(target.pid).rssBytes;
  const published = await ctx.pubs.call('publish', { url: target.url, channel, rate: 0, count: 3, concurrency: 1, durationMs: 10_000 });
  const { verdict } = await settleAndVerify(ctx, published.minId, published.maxId, 10_000);
  await ctx.subs.call('close');
  return {
    metrics: {
      rssPerConnKiB: (after - before) / clients / 1024,
      rssMb: after / MiB,
      rssBeforeMb: before / MiB,
      connectMs: connected.connectMs,
    },
    correctness: correctnessOf(verdict, [published]),
  };
}

/** Fan-out at a fixed publish rate (rate 0 = saturation: publish as fast as the server answers). */
async function fanout(ctx, target, { clients, rate, warmupMs, measureMs, publishers = 8, drainMs = 30_000 }) {
  const channel = 'fanout';
  await ctx.subs.call('connect', { url: target.url, channel, count: clients, concurrency: 200 });
  await sleep(200);
  const publishing = ctx.pubs.call('publish', {
    url: target.url,
    channel,
    rate,
    durationMs: warmupMs + measureMs,
    warmupMs,
    concurrency: publishers,
  });
  await sleep(warmupMs);
  await ctx.subs.call('reset');
  const start = usage(target.pid);
  await sleep(measureMs);
  const window = await ctx.subs.call('stats');
  const end = usage(target.pid);
  const published = await publishing;
  const { waited, verdict } = await settleAndVerify(ctx, published.minId, published.maxId, drainMs);
  await ctx.subs.call('close');
  return {
    metrics: {
      eventsPerSecond: window.eventsPerSecond,
      publishesPerSecond: published.requestsPerSecond,
      p50: window.latency.p50,
      p99: window.latency.p99,
      max: window.latency.max,
      cpuPerMillion: (end.cpuSeconds - start.cpuSeconds) / (window.received / 1e6),
      rssMb: end.rssBytes / MiB,
      clientCpuShare: window.clientCpuSeconds / (window.elapsedMs / 1000),
      drainMs: waited.waitedMs,
    },
    correctness: correctnessOf(verdict, [published], waited.behind ? { problem: `${waited.behind} streams never got the last id` } : {}),
  };
}

/** Publish path: POSTs to one channel with no stream open, as fast as the server answers. */
async function publishPath(ctx, target, { warmupMs, measureMs, publishers }) {
  const publishing = ctx.pubs.call('publish', {
    url: target.url,
    channel: 'publish',
    rate: 0,
    durationMs: warmupMs + measureMs,
    warmupMs,
    concurrency: publishers,
  });
  await sleep(warmupMs);
  const start = usage(target.pid);
  await sleep(measureMs);
  const end = usage(target.pid);
  const published = await publishing;
  const requests = (published.requestsPerSecond * measureMs) / 1000;
  const consecutive = published.maxId - published.minId + 1 === published.ok;
  return {
    metrics: {
      requestsPerSecond: published.requestsPerSecond,
      p50: published.latency.p50,
      p99: published.latency.p99,
      max: published.latency.max,
      cpuPerMillion: (end.cpuSeconds - start.cpuSeconds) / (requests / 1e6),
      rssMb: end.rssBytes / MiB,
    },
    correctness: {
      ok: published.failed === 0 && consecutive,
      streams: 0,
      loss: 0,
      duplicates: 0,
      reordered: 0,
      reconnects: 0,
      problems: [
        ...(published.failed ? [`${published.failed} publishes failed (${published.lastError})`] : []),
        ...(consecutive ? [] : [`ids ${published.minId}..${published.maxId} for ${published.ok} publishes`]),
      ],
    },
  };
}

/**
 * Reconnect storm: `clients` streams connect at once with Last-Event-ID `behind` events back,
 * while events keep coming live; time until every stream has the id that was newest at the start.
 */
async function storm(ctx, target, { clients, behind, liveRate, liveMs }) {
  const channel = 'storm';
  const prefill = await ctx.pubs.call('publish', { url: target.url, channel, rate: 0, count: behind * 2, concurrency: 4, durationMs: 30_000 });
  const live = ctx.pubs.call('publish', { url: target.url, channel, rate: liveRate, durationMs: liveMs, concurrency: 4 });
  await sleep(200);
  const newest = Number(await ctx.redis.get(`${target.prefix}{${channel}}:id`));
  await ctx.subs.call('reset');
  const start = usage(target.pid);
  const connected = await ctx.subs.call('connect', {
    url: target.url,
    channel,
    count: clients,
    resumeId: newest - behind,
    catchUpId: newest,
    // As many attempts in flight as Node's default listen backlog (511) holds: more would only
    // measure the kernel's SYN retransmit timers (1 s, 3 s, …), the same for both servers.
    concurrency: Math.min(clients, 500),
  });
  const caughtUp = await ctx.subs.call('waitFor', { id: newest, timeoutMs: 60_000 });
  const end = usage(target.pid);
  const window = await ctx.subs.call('stats');
  const published = await live;
  const { waited, verdict } = await settleAndVerify(ctx, newest - behind + 1, published.maxId, 30_000);
  await ctx.subs.call('close');
  const problem = caughtUp.behind ? `${caughtUp.behind} streams never caught up` : waited.behind ? `${waited.behind} streams never got the last id` : undefined;
  return {
    metrics: {
      catchUpMs: verdict.caughtUpAtMax === null ? null : verdict.caughtUpAtMax - connected.startedAt,
      connectMs: connected.connectMs,
      p99: window.latency.p99,
      cpuPerMillion: (end.cpuSeconds - start.cpuSeconds) / (window.received / 1e6),
      rssMb: end.rssBytes / MiB,
    },
    correctness: correctnessOf(verdict, [prefill, published], problem ? { problem } : {}),
  };
}

module.exports = { idle, fanout, publishPath, storm };

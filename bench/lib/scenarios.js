// The scenarios. Each takes the shared context (load clients, Redis, sizes) and one running
// server, and returns {metrics, correctness}. Correctness is checked on every delivery by the
// load client; here the per-stream first and last ids are compared with what was published.
'use strict';
const http = require('node:http');
const { sleep, usage } = require('./processes');

const MiB = 1024 * 1024;

/** CPU seconds so far of the server (with its workers) and of Redis. */
function cpuNow(ctx, target) {
  const server = usage(target.pid);
  return { server: server.cpuSeconds, redis: usage(ctx.redisPid).cpuSeconds, rssBytes: server.rssBytes };
}

/** Server CPU, and server + Redis CPU, per million deliveries between two cpuNow() readings. */
function cpuPerMillion(start, end, deliveries) {
  return {
    cpuPerMillion: (end.server - start.server) / (deliveries / 1e6),
    cpuWithRedisPerMillion: (end.server - start.server + end.redis - start.redis) / (deliveries / 1e6),
  };
}

/** Redis's `used_memory` (bytes), from INFO memory. */
async function redisUsedMemory(redis) {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}

/** Whether the server answers `path` with 200 (a build of the hub without a route says 404). */
function servesRoute(url, path) {
  return new Promise((resolve) => {
    const request = http.get(`${url}${path}`, { agent: false }, (response) => {
      resolve(response.statusCode === 200);
      request.destroy();
    });
    request.on('error', () => resolve(false));
    request.setTimeout(5000, () => request.destroy());
  });
}

/** The result of a scenario that this server cannot run: no figures, not a failure. */
function skipped(reason) {
  return {
    metrics: { rssMb: null },
    skipped: reason,
    correctness: { ok: true, streams: 0, loss: 0, duplicates: 0, reordered: 0, reconnects: 0, problems: [] },
  };
}

/** A small seeded generator (mulberry32), so every server gets the same channel sets. */
function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` sets of `size` distinct names drawn from `names`, the same on every call. */
function channelSets(names, size, count) {
  const random = seeded(14);
  return Array.from({ length: count }, () => {
    const pool = [...names];
    for (let i = 0; i < size; i++) {
      const pick = i + Math.floor(random() * (pool.length - i));
      [pool[i], pool[pick]] = [pool[pick], pool[i]];
    }
    return pool.slice(0, size);
  });
}

/** Publisher ranges whose answered ids are not consecutive (a failed or lost publish). */
function publishProblems(published) {
  return published.gappedChannels?.length ? `ids not consecutive on ${published.gappedChannels.slice(0, 3).join(', ')}` : undefined;
}

/** Folds the load client's checks and the publisher's answers into one verdict. */
function correctnessOf(verdict, published, extra = {}) {
  const errors = verdict.errors;
  const loss = errors.missing + verdict.wrongStart + verdict.wrongEnd;
  const problems = [];
  if (loss) problems.push(`loss: ${errors.missing} ids skipped, ${verdict.wrongStart} streams started wrong, ${verdict.wrongEnd} ended short`);
  if (errors.duplicates) problems.push(`${errors.duplicates} duplicates`);
  if (errors.reordered) problems.push(`${errors.reordered} reordered`);
  if (errors.gapNotices) problems.push(`${errors.gapNotices} hub.gap notices`);
  if (errors.protocolErrors) problems.push(`${errors.protocolErrors} malformed or inconsistent events (cursor, envelope, priming)`);
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

/**
 * Opening streams (issue #24): `clients` streams connect to one channel at once (`concurrency`
 * in flight): the time until every one has its response head, RSS per stream once connected,
 * then RSS per stream while `rate` events/s are delivered to all of them for `loadMs`.
 */
async function connect(ctx, target, { clients, concurrency, rate, loadMs, settleMs }) {
  const channel = 'connect';
  await sleep(settleMs);
  const before = usage(target.pid);
  const connected = await ctx.subs.call('connect', { url: target.url, channel, count: clients, concurrency });
  const afterConnect = usage(target.pid);
  const published = await ctx.pubs.call('publish', { url: target.url, channel, rate, durationMs: loadMs, concurrency: 4 });
  const underLoad = usage(target.pid);
  const { waited, verdict } = await settleAndVerify(ctx, published.minId, published.maxId, 30_000);
  await ctx.subs.call('close');
  return {
    metrics: {
      connectMs: connected.connectMs,
      connectCpuMs: (afterConnect.cpuSeconds - before.cpuSeconds) * 1000,
      rssPerConnKiB: (afterConnect.rssBytes - before.rssBytes) / clients / 1024,
      rssPerConnLoadKiB: (underLoad.rssBytes - before.rssBytes) / clients / 1024,
      rssMb: underLoad.rssBytes / MiB,
    },
    correctness: correctnessOf(verdict, [published], waited.behind ? { problem: `${waited.behind} streams never got the last id` } : {}),
  };
}

/** Fan-out at a fixed publish rate (rate 0 = saturation: publish as fast as the server answers). */
async function fanout(ctx, target, { clients, rate, warmupMs, measureMs, publishers = 8, drainMs = 30_000 }) {
  const channel = 'fanout';
  const rssBefore = usage(target.pid).rssBytes;
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
  const start = cpuNow(ctx, target);
  await sleep(measureMs);
  const window = await ctx.subs.call('stats');
  const end = cpuNow(ctx, target);
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
      ...cpuPerMillion(start, end, window.received),
      rssMb: end.rssBytes / MiB,
      rssPerConnLoadKiB: (end.rssBytes - rssBefore) / clients / 1024,
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
  const start = cpuNow(ctx, target);
  await sleep(measureMs);
  const end = cpuNow(ctx, target);
  const published = await publishing;
  const requests = (published.requestsPerSecond * measureMs) / 1000;
  const consecutive = published.maxId - published.minId + 1 === published.ok;
  return {
    metrics: {
      requestsPerSecond: published.requestsPerSecond,
      p50: published.latency.p50,
      p99: published.latency.p99,
      max: published.latency.max,
      ...cpuPerMillion(start, end, requests),
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

/**
 * Several channels on one stream (issue #9): each client follows `perStream` of `channelCount`
 * channels over `GET /streams` (sets drawn with a fixed seed, so nearly every client has its own
 * set), while `rate` events/s go round-robin to the channels. Checked per channel of each stream.
 */
async function multi(ctx, target, { clients, channelCount, perStream, rate, warmupMs, measureMs, publishers = 8, drainMs = 30_000 }) {
  if (!(await servesRoute(target.url, '/streams?channel=bench.probe'))) return skipped('GET /streams is not served by this build');
  const names = Array.from({ length: channelCount }, (_, i) => `multi.${String(i).padStart(2, '0')}`);
  await ctx.subs.call('connect', { url: target.url, sets: channelSets(names, perStream, clients), count: clients, concurrency: 200 });
  await sleep(200);
  const publishing = ctx.pubs.call('publish', { url: target.url, channels: names, rate, durationMs: warmupMs + measureMs, warmupMs, concurrency: publishers });
  await sleep(warmupMs);
  await ctx.subs.call('reset');
  const start = cpuNow(ctx, target);
  await sleep(measureMs);
  const window = await ctx.subs.call('stats');
  const end = cpuNow(ctx, target);
  const published = await publishing;
  const waited = await ctx.subs.call('waitFor', { ranges: published.ranges, timeoutMs: drainMs });
  const verdict = await ctx.subs.call('verify', { ranges: published.ranges });
  await ctx.subs.call('close');
  const problem = waited.behind ? `${waited.behind} streams never got the last id of every channel` : publishProblems(published);
  return {
    metrics: {
      eventsPerSecond: window.eventsPerSecond,
      p50: window.latency.p50,
      p99: window.latency.p99,
      max: window.latency.max,
      ...cpuPerMillion(start, end, window.received),
      rssMb: end.rssBytes / MiB,
      drainMs: waited.waitedMs,
    },
    correctness: correctnessOf(verdict, [published], problem ? { problem } : {}),
  };
}

/**
 * Many channels (issue #13): `streams` streams each on a channel of its own (a channel per user),
 * `rate` events/s round-robin over the channels. Measures the connect time (the subscriptions),
 * memory per stream, CPU per delivery and Redis memory per channel: subscribed, then with history.
 */
async function many(ctx, target, { streams, rate, warmupMs, measureMs, settleMs, publishers = 8, drainMs = 30_000 }) {
  const names = Array.from({ length: streams }, (_, i) => `user.${i}`);
  await sleep(settleMs / 2);
  const redisBefore = await redisUsedMemory(ctx.redis);
  const rssBefore = usage(target.pid).rssBytes;
  const connected = await ctx.subs.call('connect', { url: target.url, channels: names, count: streams, concurrency: 200 });
  await sleep(settleMs);
  const rssConnected = usage(target.pid).rssBytes;
  const redisSubscribed = await redisUsedMemory(ctx.redis);
  const publishing = ctx.pubs.call('publish', { url: target.url, channels: names, rate, durationMs: warmupMs + measureMs, warmupMs, concurrency: publishers });
  await sleep(warmupMs);
  await ctx.subs.call('reset');
  const start = cpuNow(ctx, target);
  await sleep(measureMs);
  const window = await ctx.subs.call('stats');
  const end = cpuNow(ctx, target);
  const published = await publishing;
  const waited = await ctx.subs.call('waitFor', { ranges: published.ranges, timeoutMs: drainMs });
  const redisPublished = await redisUsedMemory(ctx.redis);
  const verdict = await ctx.subs.call('verify', { ranges: published.ranges });
  await ctx.subs.call('close');
  const publishedChannels = Object.keys(published.ranges).length;
  const problem = waited.behind ? `${waited.behind} streams never got the last id` : publishProblems(published);
  return {
    metrics: {
      connectMs: connected.connectMs,
      rssPerConnKiB: (rssConnected - rssBefore) / streams / 1024,
      eventsPerSecond: window.eventsPerSecond,
      p50: window.latency.p50,
      p99: window.latency.p99,
      max: window.latency.max,
      ...cpuPerMillion(start, end, window.received),
      rssMb: end.rssBytes / MiB,
      redisSubscribedBytesPerChannel: (redisSubscribed - redisBefore) / streams,
      redisHistoryBytesPerChannel: publishedChannels ? (redisPublished - redisSubscribed) / publishedChannels : null,
      eventsPerChannel: published.ok / Math.max(1, publishedChannels),
    },
    correctness: correctnessOf(verdict, [published], problem ? { problem } : {}),
  };
}

module.exports = { idle, connect, fanout, publishPath, storm, multi, many };

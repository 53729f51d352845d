// Turns the measurements into bench/results/latest.md (tables of medians, ratios and targets)
// and latest.svg (p99 latency and delivered events/s against client count). A smoke run writes
// to bench/results/raw/ (not committed) so that CI never rewrites the committed results.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chart } = require('./chart');

const RESULTS_DIR = path.join(__dirname, '..', 'results');

function median(values) {
  const sorted = values.filter((value) => typeof value === 'number' && Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const medianOf = (runs, metric) => median((runs ?? []).map((run) => run.metrics[metric]));

function format(value, digits) {
  if (value === null || value === undefined) return 'n/a';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

/**
 * Rows of the main table: [label, metric, digits, target against the baseline, target against
 * the floor]. Baseline targets are the project's own (README); floor targets are issue #14's
 * (its CPU figures are server + Redis, so the floor's cheaper PUBLISH counts against the hub).
 */
function rowsFor(key, fanout) {
  const delivered = ['delivered events/s', 'eventsPerSecond', 0];
  const latency = [
    ['latency p50 (ms)', 'p50', 2],
    ['latency p99 (ms)', 'p99', 2],
    ['latency max (ms)', 'max', 1],
  ];
  const cpu = ['server CPU s per million deliveries', 'cpuPerMillion', 2];
  const cpuWithRedis = ['server + Redis CPU s per million deliveries', 'cpuWithRedisPerMillion', 2];
  const rss = ['server RSS (MiB)', 'rssMb', 0];
  if (key === 'idle') return [['RSS per idle connection (KiB)', 'rssPerConnKiB', 1, { max: 1.3 }, { max: 1.3 }], rss];
  if (key === 'publish' || key === 'publish-schema') {
    if (key === 'publish-schema') return [['publish requests/s', 'requestsPerSecond', 0], ['POST latency p50 (ms)', 'p50', 2], ['POST latency p99 (ms)', 'p99', 2], ['server CPU s per million publishes', 'cpuPerMillion', 2], rss];
    return [
      ['publish requests/s', 'requestsPerSecond', 0, { min: 0.8 }, { min: 0.8 }],
      ['POST latency p50 (ms)', 'p50', 2],
      ['POST latency p99 (ms)', 'p99', 2],
      ['server CPU s per million publishes', 'cpuPerMillion', 2],
      ['server + Redis CPU s per million publishes', 'cpuWithRedisPerMillion', 2],
      rss,
    ];
  }
  if (key.startsWith('connect-')) {
    return [
      ['all streams connected (ms)', 'connectMs', 0, undefined, { max: 1.5 }],
      ['server CPU while connecting (ms)', 'connectCpuMs', 0],
      ['RSS per stream, connected (KiB)', 'rssPerConnKiB', 1],
      ['RSS per stream, under load (KiB)', 'rssPerConnLoadKiB', 1, undefined, { max: key === 'connect-1000' ? 1.3 : 1.2 }],
      rss,
    ];
  }
  if (key === 'storm') {
    return [['time until all caught up (ms)', 'catchUpMs', 0, { max: 1.1 }], ['all connected (ms)', 'connectMs', 0], cpu, rss];
  }
  if (key === 'saturation') {
    return [[...delivered, { min: 1.0 }], ['publishes/s accepted', 'publishesPerSecond', 0], ...latency, cpu, cpuWithRedis, rss];
  }
  if (key === 'multi') {
    return [delivered, [...latency[0], undefined, { max: 1.5 }], [...latency[1], { max: 1.2 }, { max: 1.5 }], latency[2], [...cpu, { max: 1.1 }], cpuWithRedis, rss];
  }
  if (key === 'many') {
    return [
      ['all streams connected (ms)', 'connectMs', 0],
      ['RSS per stream (KiB)', 'rssPerConnKiB', 1],
      delivered,
      ...latency,
      cpu,
      cpuWithRedis,
      ['Redis memory per channel, subscribed (bytes)', 'redisSubscribedBytesPerChannel', 0],
      ['Redis memory per channel, with its history (bytes)', 'redisHistoryBytesPerChannel', 0],
      rss,
    ];
  }
  const { clients, rate } = fanout;
  const cpuTarget = clients === 1000 && rate === 100 ? { max: 1.1 } : clients === 100 && rate === 1000 ? { max: 1.0 } : undefined;
  const floorCpu = clients === 100 && rate === 100 ? { max: 1.1 } : clients === 1000 && rate === 100 ? { max: 1.0 } : undefined;
  // Overload (issue #24): at least 3x the floor's deliveries, with a p99 no worse than the floor's.
  const overload = (clients === 5000 && rate === 1000) || (clients === 10000 && rate === 100);
  const floorP99 = clients === 100 && rate === 100 ? { max: 1.2 } : clients === 1000 && rate === 100 ? { max: 1.5 } : overload ? { max: 1.0 } : undefined;
  const floorDelivered = overload ? { min: 3.0 } : clients >= 1000 && rate === 1000 ? { min: 2.5 } : undefined;
  return [
    [...delivered, undefined, floorDelivered],
    latency[0],
    [...latency[1], { max: 1.2 }, floorP99],
    latency[2],
    [...cpu, cpuTarget],
    [...cpuWithRedis, undefined, floorCpu],
    ['RSS per stream, under load (KiB)', 'rssPerConnLoadKiB', 1, undefined, clients >= 5000 && rate === 100 ? { max: 1.2 } : undefined],
    rss,
  ];
}

function targetText(target) {
  if (!target) return '';
  return target.min !== undefined ? `≥ ${target.min.toFixed(1)}×` : `≤ ${target.max.toFixed(1)}×`;
}

function evaluate(target, ratio) {
  if (!target) return '';
  if (ratio === null) return 'n/a';
  const met = target.min !== undefined ? ratio >= target.min : ratio <= target.max;
  return met ? 'yes' : '**no**';
}

const ratioOf = (ours, theirs) => (theirs && ours !== null && theirs > 0 ? ours / theirs : null);
const ratioText = (ratio) => (ratio === null ? 'n/a' : `${ratio.toFixed(2)}×`);

function mainTable(results, lines, verdicts) {
  lines.push('| scenario | metric | floor | baseline | hub | hub/baseline | target | met? | hub/floor | target | met? |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | --- | --- |');
  for (const entry of Object.values(results)) {
    const { step, baseline, hub } = entry;
    const floor = entry.floor ?? [];
    for (const [label, metric, digits, target, floorTarget] of rowsFor(step.key, step.fanout)) {
      const base = medianOf(baseline, metric);
      const low = medianOf(floor, metric);
      const ours = medianOf(hub, metric);
      const ratio = ratioOf(ours, base);
      const floorRatio = ratioOf(ours, low);
      const met = evaluate(target, ratio);
      const floorMet = evaluate(floorTarget, floorRatio);
      if (target) verdicts.push({ scenario: step.title, metric: label, against: 'baseline', ratio, target: targetText(target), met: met === 'yes' });
      if (floorTarget) verdicts.push({ scenario: step.title, metric: label, against: 'floor', ratio: floorRatio, target: targetText(floorTarget), met: floorMet === 'yes' });
      lines.push(
        `| ${step.title} | ${label} | ${format(low, digits)} | ${format(base, digits)} | ${format(ours, digits)} | ` +
          `${ratioText(ratio)} | ${targetText(target)} | ${met} | ${ratioText(floorRatio)} | ${targetText(floorTarget)} | ${floorMet} |`,
      );
    }
  }
}

function correctnessTable(results, workers, lines, failures) {
  lines.push('| scenario | server | runs | streams checked | lost | duplicated | reordered | client reconnects | verdict |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  const groups = [];
  for (const entry of Object.values(results)) {
    for (const kind of ['floor', 'baseline', 'before', 'hub']) if ((entry[kind] ?? []).length) groups.push([entry.step.title, kind === 'before' ? 'hub before' : kind, entry[kind]]);
  }
  for (const [count, runs] of Object.entries(workers)) if (runs.length) groups.push(['hub saturation', `hub WORKERS=${count}`, runs]);
  for (const [title, server, runs] of groups) {
    const sum = (field) => runs.reduce((total, run) => total + (run.correctness[field] ?? 0), 0);
    const problems = runs.flatMap((run) => run.correctness.problems);
    const ok = runs.every((run) => run.correctness.ok);
    const skippedRuns = runs.filter((run) => run.skipped);
    if (!ok) failures.push(`${title} / ${server}: ${problems.join('; ')}`);
    const verdict = !ok ? `**FAILED**: ${problems.slice(0, 3).join('; ')}` : skippedRuns.length ? `skipped: ${skippedRuns[0].skipped}` : 'ok';
    lines.push(`| ${title} | ${server} | ${runs.length} | ${sum('streams')} | ${sum('loss')} | ${sum('duplicates')} | ${sum('reordered')} | ${sum('reconnects')} | ${verdict} |`);
  }
}

/** Hub against an earlier build of itself (BENCH_BEFORE_ENTRY), every metric, same run. */
function beforeTable(results, lines) {
  lines.push('| scenario | metric | hub before | hub | hub/before |');
  lines.push('| --- | --- | ---: | ---: | ---: |');
  for (const entry of Object.values(results)) {
    // Scenarios the earlier build could not run (e.g. no /streams yet) have nothing to compare.
    if (!(entry.before ?? []).some((run) => !run.skipped)) continue;
    for (const [label, metric, digits] of rowsFor(entry.step.key, entry.step.fanout)) {
      const before = medianOf(entry.before, metric);
      const ours = medianOf(entry.hub, metric);
      lines.push(`| ${entry.step.title} | ${label} | ${format(before, digits)} | ${format(ours, digits)} | ${ratioText(ratioOf(ours, before))} |`);
    }
  }
}

function workersTable(workers, lines) {
  const one = workers[1];
  const two = workers[2];
  lines.push('| metric | WORKERS=1 median | WORKERS=2 median | ratio 2/1 |');
  lines.push('| --- | ---: | ---: | ---: |');
  const metrics = [
    ['delivered events/s', 'eventsPerSecond', 0],
    ['publishes/s accepted', 'publishesPerSecond', 0],
    ['latency p99 (ms)', 'p99', 2],
    ['server CPU s per million deliveries (all processes)', 'cpuPerMillion', 2],
    ['server RSS (MiB, all processes)', 'rssMb', 0],
  ];
  for (const [label, metric, digits] of metrics) {
    const a = medianOf(one, metric);
    const b = medianOf(two, metric);
    lines.push(`| ${label} | ${format(a, digits)} | ${format(b, digits)} | ${a && b !== null ? `${(b / a).toFixed(2)}×` : 'n/a'} |`);
  }
}

/**
 * Publishes/s of the hub with a schema on the channel (publish-schema) against without
 * (publish), medians of the same run; null unless both ran.
 */
function schemaComparison(results) {
  const withSchema = results['publish-schema']?.hub ?? [];
  const plain = results.publish?.hub ?? [];
  if (withSchema.length === 0 || plain.length === 0) return null;
  const a = medianOf(withSchema, 'requestsPerSecond');
  const b = medianOf(plain, 'requestsPerSecond');
  if (!a || !b) return null;
  const ratio = a / b;
  return { ratio, met: ratio >= 0.9, text: `publish with a schema on the channel: ${Math.round(a)} req/s against ${Math.round(b)} without, ${ratio.toFixed(2)}× (target >= 0.9×)` };
}

/** Writes the report files; returns progress lines and the correctness failures. */
function write({ results, workers, smoke, rounds, sizes, startedAt, elapsedMs }) {
  const lines = [];
  const verdicts = [];
  const failures = [];
  lines.push(`# ssehub benchmark${smoke ? ' (smoke size)' : ''}`, '');
  lines.push(
    `Run ${new Date(startedAt).toISOString()}, ${Math.round(elapsedMs / 1000)} s; Node ${process.version}; ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; ` +
      `${rounds} round(s), floor, baseline and hub interleaved, each measurement on a fresh server process; medians shown. ` +
      'The load clients, the publishers, Redis and the server share the same machine. ' +
      'Ratios are hub/baseline and hub/floor; a latency, CPU or memory ratio above 1 means the hub is worse, a throughput ratio below 1 means the hub is worse. ' +
      "The baseline is a bare node:http server with the hub's Redis layout and publish script; the floor is the least such a server can do " +
      '(one PSUBSCRIBE, a bare PUBLISH, no history: it cannot serve the reconnect storm). Server + Redis CPU counts the Redis work of each publish too.',
    '',
  );
  mainTable(results, lines, verdicts);
  lines.push('', '## Targets', '');
  for (const verdict of verdicts) {
    lines.push(`- ${verdict.met ? 'met' : '**missed**'}: ${verdict.scenario}, ${verdict.metric}: ${ratioText(verdict.ratio)} the ${verdict.against} (target ${verdict.target})`);
  }
  const schemaLine = schemaComparison(results);
  if (schemaLine !== null) {
    lines.push(`- ${schemaLine.met ? 'met' : '**missed**'}: ${schemaLine.text}`);
    verdicts.push({ scenario: 'publish with a schema', metric: 'publish requests/s', ratio: schemaLine.ratio, against: 'plain publish', target: '>= 0.9x', met: schemaLine.met });
  }
  lines.push('', '## Per-round values of the targeted metrics (floor / baseline / hub, in run order)', '');
  for (const entry of Object.values(results)) {
    const { step, baseline, hub } = entry;
    for (const [label, metric, digits, target, floorTarget] of rowsFor(step.key, step.fanout)) {
      if (!target && !floorTarget) continue;
      const triples = hub.map((run, index) =>
        [entry.floor?.[index], baseline[index], run].map((one) => (one ? format(one.metrics[metric], digits) : '–')).join(' / '),
      );
      lines.push(`- ${step.title}, ${label}: ${triples.join('; ')}`);
    }
  }
  lines.push('', '## Correctness (every delivery checked: ids consecutive per stream, first and last id as published)', '');
  correctnessTable(results, workers, lines, failures);
  lines.push(`- ${failures.length === 0 ? 'met' : '**missed**'}: zero loss, duplicates and reordering everywhere`);
  if (Object.values(results).some((entry) => (entry.before ?? []).length)) {
    lines.push('', '## The hub against the build before it (BENCH_BEFORE_ENTRY, same run, interleaved)', '');
    lines.push('A ratio above 1 for latency, CPU or memory (below 1 for throughput) is a cost of the change.', '');
    beforeTable(results, lines);
  }
  if (workers[1].length && workers[2].length) {
    lines.push('', `## Hub WORKERS=2 against WORKERS=1 (saturation: ${sizes.saturation.clients} clients, ${sizes.saturation.publishers} publishers)`, '');
    workersTable(workers, lines);
  }
  lines.push('', '## Sizes', '', '```json', JSON.stringify(sizes, null, 2), '```', '');
  const markdown = lines.join('\n');
  // Only a full run of the hub as built writes the committed files; others go to raw/.
  // A partial run (some scenarios or servers only) goes to raw/partial.* unless it is named.
  const partial = Boolean(process.env.BENCH_ONLY || process.env.BENCH_KINDS);
  const name = smoke ? 'smoke' : (process.env.BENCH_RESULTS_NAME ?? (partial ? 'partial' : 'latest'));
  const dir = name === 'latest' ? RESULTS_DIR : path.join(RESULTS_DIR, 'raw');
  fs.mkdirSync(path.join(RESULTS_DIR, 'raw'), { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.md`), markdown);
  fs.writeFileSync(path.join(dir, `${name}.svg`), chart(results, medianOf));
  fs.writeFileSync(path.join(RESULTS_DIR, 'raw', `${name}.json`), JSON.stringify({ results, workers, sizes, smoke, rounds, startedAt, elapsedMs }, null, 1));
  const progress = [`wrote ${path.relative(process.cwd(), path.join(dir, `${name}.md`))} and ${name}.svg`];
  for (const verdict of verdicts) progress.push(`target ${verdict.met ? 'met   ' : 'MISSED'} ${verdict.scenario} / ${verdict.metric}: ${ratioText(verdict.ratio)} the ${verdict.against} (${verdict.target})`);
  return { lines: progress, correctnessFailures: failures };
}

module.exports = { write, median };

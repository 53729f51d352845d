#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (from `node --cpu-prof`, e.g. BENCH_CPU_PROF=dir node bench/run.js):
// self time per function and per file, highest first.
// Usage: node bench/profile-summary.js FILE [top] [skipMs]; skipMs leaves out the first skipMs of
// the profile (the server's start-up: module loading), so the figures are those of the load.
'use strict';
const fs = require('node:fs');

const [file, topText = '25', skipText = '0'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.js FILE.cpuprofile [top]\n');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const top = Number(topText);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMicros = new Map();
const skipMicros = Number(skipText) * 1000;
let elapsed = 0;
for (let i = 0; i < profile.samples.length; i++) {
  elapsed += profile.timeDeltas[i] ?? 0;
  if (elapsed < skipMicros) continue;
  const id = profile.samples[i];
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const parentOf = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
function shortPath(url) {
  const path = url.replace(/^file:\/\//, '');
  if (path.includes('/node_modules/')) return path.replace(/.*\/node_modules\//, 'node_modules/');
  return path.replace(/.*\/dist\//, 'dist/');
}
/** The JavaScript caller chain of a node, nearest first, for native frames such as writev. */
function callers(id, depth) {
  const chain = [];
  for (let parent = parentOf.get(id); parent !== undefined && chain.length < depth; parent = parentOf.get(parent)) {
    const frame = byId.get(parent).callFrame;
    chain.push(`${frame.functionName || '(anonymous)'}@${shortPath(frame.url)}:${frame.lineNumber + 1}`);
  }
  return chain.join(' < ');
}
const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map();
const byFile = new Map();
for (const [id, micros] of selfMicros) {
  const frame = byId.get(id).callFrame;
  const where = shortPath(frame.url);
  const name = `${frame.functionName || '(anonymous)'}  ${where ? `${where}:${frame.lineNumber + 1}` : ''}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  const group = where ? where.replace(/^(node_modules\/(@[^/]+\/)?[^/]+).*/, '$1') : `(${frame.functionName})`;
  byFile.set(group, (byFile.get(group) ?? 0) + micros);
}
const show = (title, map) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((micros / total) * 100).toFixed(1).padStart(5)}%  ${name}\n`);
  }
};
const idle = [...selfMicros].filter(([id]) => byId.get(id).callFrame.functionName === '(idle)').reduce((sum, [, micros]) => sum + micros, 0);
process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled${skipMicros ? ` after the first ${skipText} ms` : ''}, ${((total - idle) / 1e6).toFixed(2)} s busy\n`);
show('self time by function', byFunction);
show('self time by file or package', byFile);
const nativeCallers = new Map();
for (const [id, micros] of selfMicros) {
  const frame = byId.get(id).callFrame;
  if (frame.url || frame.functionName.startsWith('(')) continue;
  const key = `${frame.functionName} < ${callers(id, 6)}`;
  nativeCallers.set(key, (nativeCallers.get(key) ?? 0) + micros);
}
show('native functions with their callers', nativeCallers);
// Inclusive (total) time: a function's self time plus everything it called, counted once per sample.
const inclusive = new Map();
for (const [id, micros] of selfMicros) {
  const seen = new Set();
  for (let node = id; node !== undefined; node = parentOf.get(node)) {
    const frame = byId.get(node).callFrame;
    if (!frame.url) continue;
    const name = `${frame.functionName || '(anonymous)'}  ${shortPath(frame.url)}:${frame.lineNumber + 1}`;
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + micros);
  }
}
show('total time (self + callees) by function', inclusive);

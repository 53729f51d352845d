#!/usr/bin/env node
// `npm start` must work on a fresh clone: build when dist/ is missing or older than src/.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const entry = path.join(root, 'dist', 'server.js');
const clientEntry = path.join(root, 'client', 'dist', 'index.js');

function newestMtime(dir) {
  let newest = 0;
  for (const item of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name);
    const mtime = item.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

const stale = (output, sourceDir) => !fs.existsSync(output) || newestMtime(path.join(root, sourceDir)) > fs.statSync(output).mtimeMs;

if (stale(entry, 'src') || stale(clientEntry, path.join('client', 'src'))) {
  require('./build.js');
}

#!/usr/bin/env node
// Compiles src/ to dist/ and copies the Lua scripts beside the broker that loads them.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.join(__dirname, '..');
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
for (const name of fs.readdirSync(path.join(root, 'src', 'broker'))) {
  if (name.endsWith('.lua')) {
    fs.copyFileSync(path.join(root, 'src', 'broker', name), path.join(root, 'dist', 'broker', name));
  }
}

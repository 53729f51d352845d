#!/usr/bin/env node
// The `ssehub` command (package.json "bin"): the compiled dispatcher in dist/cli.
'use strict';
const path = require('node:path');

let cli;
try {
  cli = require(path.join(__dirname, '..', 'dist', 'cli', 'ssehub.js'));
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND') {
    process.stderr.write('ssehub: not built yet: run `npm run build` in the ssehub package first\n');
    process.exit(2);
  }
  throw error;
}
cli.main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`ssehub: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 2;
});

#!/usr/bin/env node
// Compiles src/ to dist/ (copying the Lua scripts beside the broker that loads them) and the
// @ssehub/client package, client/src/ to client/dist/ as ES modules. `--client` builds only the client;
// `--doctor` only the doctor's shared modules, emitted as ES modules for the /doctor page.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.join(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');

function buildServer() {
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  for (const name of fs.readdirSync(path.join(root, 'src', 'broker', 'redis'))) {
    if (name.endsWith('.lua')) {
      fs.copyFileSync(path.join(root, 'src', 'broker', 'redis', name), path.join(root, 'dist', 'broker', 'redis', name));
    }
  }
}

function buildClient() {
  const outDir = path.join(root, 'client', 'dist');
  // Built beside and then moved in, so a server (or test) reading client/dist never sees half of it.
  const staging = `${outDir}.${process.pid}.tmp`;
  fs.rmSync(staging, { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', path.join('client', 'tsconfig.json'), '--outDir', staging], { cwd: root, stdio: 'inherit' });
  // client/src is CommonJS to the repository's own tools (jest, the root typecheck); the build's
  // output is ESM, and this marker makes Node load it as such.
  fs.writeFileSync(path.join(staging, 'package.json'), '{\n  "type": "module"\n}\n');
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.renameSync(staging, outDir);
}

// The doctor's judge and stream reader, one source for `ssehub doctor` (CommonJS, above) and the
// /doctor page (these ES modules). Self-contained files: transpiling each alone is enough.
function buildDoctorModules() {
  const ts = require('typescript');
  const outDir = path.join(root, 'dist', 'browser', 'doctor');
  fs.mkdirSync(outDir, { recursive: true });
  for (const name of ['judge', 'probe-reader']) {
    const source = fs.readFileSync(path.join(root, 'src', 'doctor', `${name}.ts`), 'utf8');
    const options = { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 };
    fs.writeFileSync(path.join(outDir, `${name}.js`), ts.transpileModule(source, { compilerOptions: options }).outputText);
  }
}

if (process.argv.includes('--doctor')) {
  buildDoctorModules();
} else {
  if (!process.argv.includes('--client')) {
    buildServer();
    buildDoctorModules();
  }
  buildClient();
}

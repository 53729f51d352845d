#!/usr/bin/env node
// Reports the size of the browser part of @ssehub/client (client/dist/*.js without node.js):
// as built, minified (uglify-js, when installed: it comes with jest's dependencies) and
// minified + gzipped (node:zlib, level 9). Run `npm run build` first.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const dist = path.join(__dirname, '..', 'client', 'dist');
const files = fs.readdirSync(dist).filter((name) => name.endsWith('.js') && name !== 'node.js').sort();
const sources = files.map((name) => fs.readFileSync(path.join(dist, name), 'utf8'));
let minify;
try {
  const uglify = require('uglify-js');
  minify = (code, name) => {
    const result = uglify.minify(code, { module: true, compress: { passes: 2 }, mangle: true });
    if (result.error) throw new Error(`${name}: ${result.error.message}`);
    return result.code;
  };
} catch {
  minify = undefined;
}
const built = sources.join('\n');
const minified = minify ? files.map((name, index) => minify(sources[index], name)).join('\n') : undefined;
const gzip = (text) => zlib.gzipSync(text, { level: 9 }).length;
console.log(`${files.length} modules`);
console.log(`built:            ${Buffer.byteLength(built)} bytes, gzipped ${gzip(built)} bytes`);
if (minified !== undefined) console.log(`minified:         ${Buffer.byteLength(minified)} bytes, gzipped ${gzip(minified)} bytes`);
else console.log('minified:         uglify-js not installed; only the built size is known');

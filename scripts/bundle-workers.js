#!/usr/bin/env node
// Part of `npm run build` (after tsc): a worker module that a copy waits for is also
// written as one CommonJS file beside it (NAME.cjs), which the code starting the thread
// prefers. A worker started on an ES module boots Node's ESM loader first and then
// resolves, reads and compiles each module of its graph; from one CommonJS file the
// host tree reader's first slot came about 15 ms sooner (a median of six starts here,
// about 75 ms against 92), and the copy waits for that slot.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** Workers on the critical path of a command (each started at its command's beginning). */
const WORKERS = ['io/host-tree-reader-worker.js', 'io/host-write-worker.js'];

for (const worker of WORKERS) {
  const file = fileURLToPath(new URL(`../dist/${worker}`, import.meta.url));
  await build({
    entryPoints: [file],
    outfile: file.replace(/\.js$/, '.cjs'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    legalComments: 'none',
    logLevel: 'warning',
  });
}

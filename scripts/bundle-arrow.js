#!/usr/bin/env node
// Part of `npm run build` (after tsc): dist/engine/parquet/arrow.js, which re-exports
// the apache-arrow names diskkit uses, is replaced by one bundle holding just those
// names and what they need. Loading the package's ~160 ES modules one by one cost a
// Parquet run ~0.25 CPU s; the bundle ~0.08 s (src/engine/parquet/arrow.ts says more).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const file = fileURLToPath(new URL('../dist/engine/parquet/arrow.js', import.meta.url));
await build({
  entryPoints: [file],
  outfile: file,
  allowOverwrite: true,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  treeShaking: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

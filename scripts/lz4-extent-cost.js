#!/usr/bin/env node
// CPU cost of compressing one Cartridge extent with each lz4 encoder diskkit can use,
// per extent size, on the two kinds of 1 MiB block of the Cartridge bench's big file
// (bench/cartridge.bench.js: text-like blocks, and every fourth block "random"):
//   - the C reference library through the `lz4` package's binding (LZ4_compress_default,
//     what lz4-native.ts calls), output limited to one page less than the extent (§9.2);
//   - lz4-napi's compressSync (lz4_flex; a fresh output buffer per call, no limit);
//   - lz4-block.ts (diskkit's own encoder, the fallback without the binding);
//   - compressExtentSync as the writer calls it (the C library behind the sampling early
//     abort), and zlib.crc32 of the same bytes for scale.
// Process CPU time (user + sys) per GiB of input, the best of three rounds; wall time
// would measure the other processes of a shared machine.
//   node scripts/lz4-extent-cost.js [FILE] [--mib N]
// FILE: the bench's big file (default: $DISKKIT_CART_BENCH_DIR/big-1073741824.bin); its
// blocks 0 and 3 are the text and random samples. Needs `npm run build`.
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { compressExtentSync } from '../dist/engine/cartridge/extent-codec.js';
import { encodeLz4Block } from '../dist/engine/cartridge/lz4-block.js';
import { lz4Backend } from '../dist/engine/cartridge/lz4-native.js';

const MiB = 1 << 20;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const file = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : join(process.env.DISKKIT_CART_BENCH_DIR ?? '/work/benchdata/cart', 'big-1073741824.bin');
/** Input bytes encoded per measurement. */
const perRound = Number(arg('--mib', '128')) * MiB;

const require = createRequire(import.meta.url);
const napi = require('lz4-napi');
let binding = null;
try {
  binding = require(require.resolve('lz4/build/Release/lz4.node'));
} catch {
  console.log('(the lz4 binding is not built: no C library rows)');
}

const fd = openSync(file, 'r');
const block = (index) => {
  const bytes = new Uint8Array(MiB);
  if (readSync(fd, bytes, 0, MiB, index * MiB) !== MiB) throw new Error(`${file} is shorter than ${index + 1} MiB`);
  return bytes;
};
const samples = [['text', block(0)], ['random', block(3)]];
closeSync(fd);

const out = new Uint8Array(2 * MiB);
const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/** `encode(extent, limit)` returns the stored length (the extent's length when stored raw). */
function measure(encode, data, size) {
  const limit = (size / 4096 - 1) * 4096;
  let best = Infinity;
  let stored = 0;
  for (let round = 0; round < 3; round++) {
    stored = 0;
    const start = cpuSeconds();
    for (let done = 0; done < perRound; ) {
      for (let at = 0; at + size <= data.length; at += size, done += size) stored += encode(data.subarray(at, at + size), limit);
    }
    best = Math.min(best, cpuSeconds() - start);
  }
  return { cpuPerGiB: (best / perRound) * 2 ** 30, ratio: stored / perRound };
}

const encoders = [
  ...(binding ? [['C library', (d, limit) => {
    const n = binding.compress(d, out, 4, limit);
    return n > 0 ? 4 + n : d.length;
  }]] : []),
  ['lz4-napi', (d) => Math.min(d.length, napi.compressSync(Buffer.from(d.buffer, d.byteOffset, d.length)).length)],
  ['lz4-block.ts', (d, limit) => {
    const end = encodeLz4Block(d, out, 4, limit);
    return end < 0 ? d.length : end;
  }],
  [`compressExtentSync (${lz4Backend()})`, (d) => compressExtentSync(d, 1, 4096, 0, out).bytes.length],
  ['crc32', (d) => (crc32(d), d.length)],
];

console.log('| encoder | extent | text: CPU s/GiB | text: stored/input | random: CPU s/GiB | random: stored/input |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [name, encode] of encoders) {
  for (const kib of [64, 128, 256, 512, 1024]) {
    const [text, random] = samples.map(([, data]) => measure(encode, data, kib * 1024));
    console.log(`| ${name} | ${kib} KiB | ${text.cpuPerGiB.toFixed(2)} | ${text.ratio.toFixed(3)} | ${random.cpuPerGiB.toFixed(2)} | ${random.ratio.toFixed(3)} |`);
  }
}

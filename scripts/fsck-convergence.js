#!/usr/bin/env node
// Repair convergence on a seeded corpus of mutated images (issue 12, defect 4).
// For each seed: a fixture made by mkfs.fat/mcopy (fat12, fat16, fat32) gets a few
// bytes changed in one region (boot sector, FAT, root directory, a subdirectory's
// clusters); images diskkit finds errors in are repaired with `fsck --repair`, then
// checked again by diskkit and by `fsck.fat -n`. A case converges when both are clean.
//   node scripts/fsck-convergence.js [--count N] [--seed S] [--verbose] [--json FILE]
// Needs `npm run build` and the generated fixtures (npm test makes them).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileBlockSource } from '../dist/io/block-source.js';
import { checkFat } from '../dist/engine/fat/fsck/index.js';
import { seededRandom } from '../dist/engine/seeded-random.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const count = Number(arg('--count', '400'));
const firstSeed = Number(arg('--seed', '1'));
const verbose = process.argv.includes('--verbose');
const jsonOut = arg('--json', null);
/** --keep DIR: keep each disagreeing case's image as it was before the repair (DIR/case-SEED.img). */
const keepDir = arg('--keep', null);

const BASES = {
  fat12: join(root, 'fixtures/fat12.img'),
  fat16: join(root, 'fixtures/generated/fat16.img'),
  fat32: join(root, 'fixtures/generated/fat32.img'),
};
const work = mkdtempSync(join(tmpdir(), 'diskkit-converge-'));
/** The fixtures, read once (the FAT32 one is 33 MiB). */
const baseBytes = Object.fromEntries(Object.entries(BASES).map(([k, p]) => [k, readFileSync(p)]));

/** Writes an image as a sparse file: only its 64 KiB blocks that are not all zeros (reads are the same). */
function writeSparse(path, img) {
  const zero = Buffer.alloc(65536);
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, img.length);
    for (let at = 0; at < img.length; at += zero.length) {
      const n = Math.min(zero.length, img.length - at);
      if (img.compare(zero, 0, n, at, at + n) !== 0) writeSync(fd, img, at, n, at);
    }
  } finally {
    closeSync(fd);
  }
}

/** Byte ranges of an image's metadata, from its boot sector. */
function regions(img) {
  const bps = img.readUInt16LE(11);
  const spc = img[13];
  const reserved = img.readUInt16LE(14);
  const fats = img[16];
  const rootEntries = img.readUInt16LE(17);
  const spf16 = img.readUInt16LE(22);
  const fat32 = spf16 === 0;
  const spf = fat32 ? img.readUInt32LE(36) : spf16;
  const fatStart = reserved * bps;
  const rootStart = (reserved + fats * spf) * bps;
  const rootBytes = rootEntries * 32;
  const dataStart = rootStart + Math.ceil(rootBytes / bps) * bps;
  const bpc = bps * spc;
  // Directory clusters: those whose first slot is a '.' entry (subdirectories), and the FAT32 root.
  const dirClusters = [];
  for (let at = dataStart; at + bpc <= img.length && dirClusters.length < 64; at += bpc) {
    if (img.toString('latin1', at, at + 11) === '.          ') dirClusters.push(at);
  }
  if (fat32) dirClusters.push(dataStart + (img.readUInt32LE(44) - 2) * bpc);
  // Mutations land where the metadata is in use: the FAT up to its last allocated entry, root slots up to the end mark.
  const entryBytes = fat32 ? 4 : rootEntries * 32 >= 0 && (spf * bps * 8) / 12 > 4085 * 1 ? 2 : 1.5;
  let fatUsed = fatStart + 8;
  for (let at = fatStart; at < fatStart + spf * bps; at += 2) if (img[at] !== 0 || img[at + 1] !== 0) fatUsed = at + 2;
  const rootAt = fat32 ? dirClusters.at(-1) : rootStart;
  let rootUsed = rootAt + 32;
  while (rootUsed < rootAt + (fat32 ? bpc : rootBytes) && img[rootUsed] !== 0) rootUsed += 32;
  void entryBytes;
  return {
    boot: [11, 62],
    fat: [fatStart, Math.max(fatStart + 16, fatUsed + 8)],
    root: [rootAt, rootUsed + 32],
    dirs: dirClusters,
    bpc,
  };
}

function mutate(base, seed) {
  const rnd = seededRandom(seed);
  const img = Buffer.from(base);
  const r = regions(img);
  const pick = rnd();
  let range;
  let region;
  if (pick < 0.1) [region, range] = ['boot', r.boot];
  else if (pick < 0.45) [region, range] = ['fat', r.fat];
  else if (pick < 0.75 || r.dirs.length === 0) [region, range] = ['root', r.root];
  else {
    const at = r.dirs[Math.floor(rnd() * r.dirs.length)];
    [region, range] = ['dir', [at, at + r.bpc]];
  }
  const n = 1 + Math.floor(rnd() * 6);
  for (let i = 0; i < n; i++) {
    const at = range[0] + Math.floor(rnd() * (range[1] - range[0]));
    img[at] = rnd() < 0.5 ? img[at] ^ (1 << Math.floor(rnd() * 8)) : Math.floor(rnd() * 256);
  }
  return { img, region };
}

async function check(path, repair) {
  const source = FileBlockSource.open(path, { writable: repair });
  try {
    return await checkFat(source, { repair });
  } finally {
    source.close();
  }
}

function fsckFat(path) {
  const r = spawnSync('fsck.fat', ['-n', path], { encoding: 'utf8' });
  const text = (r.stdout + r.stderr).split('\n').filter((l) => l && !/^fsck\.fat \d|^Checking|^Leaving|^\S+: \d+ files|^Starting check|^Reclaim|^Perform changes|^There are differences|^  [1-3]\)|^\[123|^Not automatically|^ *Auto-/.test(l));
  return { status: r.status, complaint: r.status !== 0 || text.some((l) => l.trim() !== '') ? text : null };
}

const tally = { cases: 0, operational: 0, clean: 0, repaired: 0, converged: 0, diskkitLeft: 0, fsckFatLeft: 0, disagreements: [] };
const byCode = new Map();
for (let seed = firstSeed; seed < firstSeed + count; seed++) {
  const types = Object.keys(BASES);
  const type = types[seed % types.length];
  const { img, region } = mutate(baseBytes[type], seed);
  const path = join(work, `case-${seed}.img`);
  writeSparse(path, img);
  tally.cases++;
  // A line every 100 images on stderr, so that a long run shows where it is.
  if (tally.cases % 100 === 0) console.error(`seed ${seed}: ${tally.repaired} repaired, ${tally.converged} converged so far`);
  let first;
  try {
    first = await check(path, false);
  } catch {
    tally.operational++;
    rmSync(path, { force: true });
    continue;
  }
  if (first.clean) {
    tally.clean++;
    rmSync(path, { force: true });
    continue;
  }
  tally.repaired++;
  if (keepDir) writeSparse(join(keepDir, `case-${seed}.img`), img);
  let again;
  try {
    await check(path, true);
    again = await check(path, false);
  } catch (error) {
    tally.disagreements.push({ seed, type, region, diskkit: [`operational: ${error.message}`], fsckFat: null });
    tally.diskkitLeft++;
    rmSync(path, { force: true });
    continue;
  }
  const peer = fsckFat(path);
  const left = again.clean ? [] : again.errors.map((e) => `${e.code} ${e.message}`);
  if (left.length === 0 && peer.complaint === null) {
    tally.converged++;
    if (keepDir) rmSync(join(keepDir, `case-${seed}.img`), { force: true });
  } else {
    if (left.length > 0) tally.diskkitLeft++;
    if (peer.complaint !== null) tally.fsckFatLeft++;
    for (const l of left) byCode.set(l.split(' ')[0], (byCode.get(l.split(' ')[0]) ?? 0) + 1);
    tally.disagreements.push({ seed, type, region, before: first.errors.slice(0, 4).map((e) => `${e.code} ${e.message}`), diskkit: left.slice(0, 6), fsckFat: peer.complaint?.slice(0, 6) ?? null });
    if (verbose) console.log(JSON.stringify(tally.disagreements.at(-1)));
  }
  rmSync(path, { force: true });
}
rmSync(work, { recursive: true, force: true });
const rate = tally.repaired === 0 ? 1 : tally.converged / tally.repaired;
console.log(`${tally.cases} mutated images (seeds ${firstSeed}..${firstSeed + count - 1}): ${tally.operational} not FAT any more, ${tally.clean} still clean, ${tally.repaired} repaired`);
console.log(`converged (diskkit and fsck.fat -n clean after --repair): ${tally.converged}/${tally.repaired} = ${(rate * 100).toFixed(1)}%`);
console.log(`diskkit re-check not clean: ${tally.diskkitLeft}; fsck.fat -n not clean: ${tally.fsckFatLeft}; codes left: ${JSON.stringify(Object.fromEntries(byCode))}`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ ...tally, rate }, null, 2));
void execFileSync;
void copyFileSync;

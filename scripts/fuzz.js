#!/usr/bin/env node
// Fuzzing from the outside (issue 12): mutated real images run through every read
// command and fsck / fsck --repair as child processes, each under a time limit and
// a heap limit, and every run is judged on
//   - how it ended: an exit code the command documents (no signal, no timeout);
//   - stderr: only `diskkit: ` lines, no "internal error", no stack trace;
//   - writes: a read-only command leaves the image byte-identical; nothing appears
//     outside the case's destination directory;
//   - memory: peak RSS (from /usr/bin/time) under the limit.
// Images: fixtures (fat12.img, generated fat16/fat32, ntfs/small.mft) and images made
// here by mkfs.fat + mmd + mcopy (long names, subdirectories). Mutations: boot sector,
// FAT, directory areas, long-name slots, truncation; MFT dumps: record bytes.
// --kinds picks the image kinds (default fat,mft): ntfs adds raw NTFS volumes read through
// the Volume interface (scripts/fuzz-ntfs.js), cart Cartridge images (scripts/fuzz-cartridge.js).
// Seeded and resumable: case i uses seed SEED+i; --state FILE keeps the counts and
// the next case, so a killed run continues where it stopped.
//   node scripts/fuzz.js [--kinds fat,mft,ntfs,cart] [--cases N] [--seed S] [--start I] [--jobs J] [--batch B] [--state FILE] [--ntfs-base PATH] [--timeout MS] [--cpu S] [--heap MIB] [--out FILE]
// --batch B (default 25) runs B cases per child (scripts/fuzz-batch-child.js) and reruns
// alone, one Node per case, every case a batch did not end normally or judged bad.
// Exit status 1 when any case failed (the failures are in --out, JSON lines).
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { seededRandom } from '../dist/engine/seeded-random.js';
import { mutateNtfsVolume, ntfsLayout } from './fuzz-ntfs.js';
import { cartridgeLayout, mutateCartridge } from './fuzz-cartridge.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(root, 'bin/diskkit.js');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const total = Number(arg('--cases', '2000'));
const seed0 = Number(arg('--seed', '1'));
const jobs = Number(arg('--jobs', '2'));
/** Wall-clock backstop; hangs are caught by the CPU limit, which a loaded machine does not trip. */
const timeoutMs = Number(arg('--timeout', '300000'));
const cpuSeconds = Number(arg('--cpu', '30'));
const heapMiB = Number(arg('--heap', '256'));
const stateFile = arg('--state', null);
const outFile = arg('--out', null);
const quiet = process.argv.includes('--quiet');
/**
 * Which image kinds the run takes its bases from: fat, mft (the default, as before, so a
 * seed still gives the cases it gave), ntfs (raw NTFS volumes read through the Volume
 * interface: the shipped demo volume, and fuzz.ntfs made by fixtures/make-ntfs-fixtures.sh
 * when mkntfs, ntfs-3g and FUSE are there), cart (Cartridge images made here by diskkit
 * mkfs --from: lz4/CRC-32 and zstd/SHA-256 with a snapshot and later changes, and a sealed
 * copy; scripts/fuzz-cartridge.js).
 */
const kinds = new Set(arg('--kinds', 'fat,mft').split(','));
/** Cases per child (1: one Node start-up per case, the old way). */
const batchSize = Math.max(1, Number(arg('--batch', '25')));
const BATCH_CHILD = join(root, 'scripts/fuzz-batch-child.js');
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
/** Peak RSS allowed: the heap limit plus what V8, Node and buffers outside the heap take. */
const RSS_LIMIT_KIB = (heapMiB + 256) * 1024;

const work = mkdtempSync(join(tmpdir(), 'diskkit-fuzz-'));
const env = { ...process.env, NO_COLOR: '1', MTOOLS_SKIP_CHECK: '1', NODE_OPTIONS: `--max-old-space-size=${heapMiB}` };
const timeTool = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const prlimit = (() => {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// ---- base images ----------------------------------------------------------
function makeImage(name, mkfsArgs, kib) {
  const img = join(work, `${name}.img`);
  execFileSync('mkfs.fat', ['-C', ...mkfsArgs, '-n', 'FUZZ', img, String(kib)], { stdio: 'ignore' });
  const src = join(work, `${name}-src`);
  mkdirSync(src, { recursive: true });
  const files = [
    ['a.txt', 100], ['A long file name with spaces.text', 3000], ['Ünïcödé näme.dat', 700],
    ['b.bin', 9000], ['UPPER.TXT', 10], ['lower.txt', 1],
  ];
  for (const [f, n] of files) writeFileSync(join(src, f), Buffer.alloc(n, f.length));
  const run = (cmd, a) => execFileSync(cmd, a, { stdio: 'ignore', env });
  run('mmd', ['-i', img, '::/dir', '::/dir/sub dir with a long name', '::/dir/sub dir with a long name/deeper']);
  for (const [f] of files) run('mcopy', ['-i', img, join(src, f), `::/${f}`]);
  for (const [f] of files.slice(0, 3)) run('mcopy', ['-i', img, join(src, f), `::/dir/sub dir with a long name/${f}`]);
  run('mcopy', ['-i', img, join(src, 'b.bin'), '::/dir/sub dir with a long name/deeper/x.bin']);
  return img;
}
/**
 * The NTFS fuzz volume (fixtures/make-ntfs-fixtures.sh fuzz), or null without root, FUSE or
 * the tools. --ntfs-base PATH keeps it: made there once, reused after, so a resumed run or a
 * --write-case replay mutates the same bytes (a new one differs in times and serial number).
 */
function makeNtfsImage() {
  const kept = arg('--ntfs-base', null);
  if (kept !== null && existsSync(kept)) return kept;
  try {
    for (const tool of ['mkntfs', 'ntfs-3g', 'setfattr']) execFileSync('which', [tool], { stdio: 'ignore' });
    if (process.getuid?.() !== 0 || !existsSync('/dev/fuse')) return null;
    execFileSync('bash', [join(root, 'fixtures/make-ntfs-fixtures.sh'), work, 'fuzz'], { stdio: 'ignore' });
    if (kept === null) return join(work, 'fuzz.ntfs');
    writeFileSync(kept, readFileSync(join(work, 'fuzz.ntfs')));
    return kept;
  } catch {
    return null;
  }
}
const bases = [];
/** The public key verify checks the sealed Cartridge base against. */
let cartPub = null;
const add = (path, kind, extra = {}) => {
  if (path === null || !existsSync(path)) return;
  const bytes = readFileSync(path);
  bases.push({ path, kind, bytes, runs: dataRuns(bytes), ...extra });
};
if (kinds.has('fat')) {
  add(join(root, 'fixtures/fat12.img'), 'fat');
  add(join(root, 'fixtures/generated/fat16.img'), 'fat');
  add(join(root, 'fixtures/generated/fat32.img'), 'fat');
  add(makeImage('fresh12', ['-F', '12'], 1440), 'fat');
  add(makeImage('fresh16', ['-F', '16', '-s', '1'], 8192), 'fat');
  add(makeImage('fresh32', ['-F', '32', '-s', '1'], 34000), 'fat');
}
if (kinds.has('mft')) add(join(root, 'fixtures/ntfs/small.mft'), 'mft');
if (kinds.has('ntfs')) {
  const demo = join(work, 'demo.ntfs');
  writeFileSync(demo, gunzipSync(readFileSync(join(root, 'fixtures/ntfs/demo.ntfs.gz'))));
  // Files each `cat` case reads: a compressed one, a fragmented one (runs continued through
  // $ATTRIBUTE_LIST in fuzz.ntfs), a sparse one, an alternate data stream.
  const demoPaths = { compressed: '/Users/alice/Compressed/log.txt', fragmented: '/Users/alice/Documents/measurements.csv', sparse: '/Users/alice/Pictures/holiday.jpg', stream: '/Users/alice/Documents/report.txt:Zone.Identifier', many: '/Users/alice/Documents/report.txt' };
  const fuzzPaths = { compressed: '/compressed/mixed.bin', fragmented: '/fragmented.bin', sparse: '/sparse.bin', stream: '/ads.txt:big', many: '/many-runs.bin' };
  add(demo, 'ntfs', { paths: demoPaths });
  add(makeNtfsImage(), 'ntfs', { paths: fuzzPaths });
  for (const base of bases) if (base.kind === 'ntfs') base.layout = ntfsLayout(base.bytes);
}
if (kinds.has('cart')) {
  const src = join(work, 'cart-src');
  mkdirSync(join(src, 'dir/sub'), { recursive: true });
  mkdirSync(join(src, 'packs'));
  const rnd = seededRandom(7);
  writeFileSync(join(src, 'tiny.txt'), 'tiny\n');
  for (let i = 0; i < 40; i++) writeFileSync(join(src, `packs/p${i}.txt`), `line ${i} of a packed file\n`.repeat(10 + 20 * i));
  writeFileSync(join(src, 'dir/big.bin'), Buffer.concat([Buffer.from(Array.from({ length: 300_000 }, () => Math.floor(rnd() * 256))), Buffer.from('text '.repeat(200_000))]));
  writeFileSync(join(src, 'dir/sub/one-extent.txt'), Array.from({ length: 30_000 }, (_, i) => String(i)).join('\n'));
  writeFileSync(join(src, 'dir/back\\slash'), 'x');
  writeFileSync(join(src, 'dir/ctl\x01name'), 'y');
  writeFileSync(join(src, `${'L'.repeat(200)}.txt`), 'long');
  const cli = (...a) => execFileSync(process.execPath, [BIN, ...a], { stdio: 'ignore', env });
  const paths = { packed: '/packs/p7.txt', big: '/dir/big.bin', snapshot: '@snap:/dir/sub/one-extent.txt' };
  const make = (name, options) => {
    const img = join(work, `${name}.cart`);
    cli('mkfs', img, '--type', 'cartridge', ...options, '--from', src);
    cli('snapshot', 'create', img, 'snap');
    cli('rm', `${img}:/dir/sub/one-extent.txt`);
    cli('cp', join(src, 'tiny.txt'), `${img}:/new.txt`);
    return img;
  };
  const plain = make('lz4-crc32', ['--compress', 'lz4', '--checksum', 'crc32']);
  add(plain, 'cart', { paths });
  add(make('zstd-sha256', ['--compress', 'zstd', '--checksum', 'sha256']), 'cart', { paths });
  // A sealed copy (verify checks it against this key; the snapshot is left out by seal).
  const key = join(work, 'seal.pem');
  cartPub = join(work, 'seal.pub');
  const pair = generateKeyPairSync('ed25519');
  writeFileSync(key, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(cartPub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  cli('seal', plain, '--key', key, '--out', join(work, 'sealed.cart'));
  add(join(work, 'sealed.cart'), 'cart', { paths: { ...paths, snapshot: '/new.txt' } });
  for (const base of bases) if (base.kind === 'cart') base.layout = cartridgeLayout(base.bytes);
}
if (bases.length === 0) throw new Error(`no base image for --kinds ${[...kinds].join(',')}`);

// ---- mutations ------------------------------------------------------------
function fatRegions(b) {
  const bps = b.readUInt16LE(11) || 512;
  const spc = b[13] || 1;
  const reserved = b.readUInt16LE(14);
  const fats = b[16] || 2;
  const rootEntries = b.readUInt16LE(17);
  const spf = b.readUInt16LE(22) || b.readUInt32LE(36);
  const fatStart = reserved * bps;
  const rootStart = (reserved + fats * spf) * bps;
  const dataStart = rootStart + rootEntries * 32;
  const bpc = bps * spc;
  const dirs = [];
  const lfn = [];
  for (let at = rootStart; at + 32 <= Math.min(b.length, dataStart + bpc * 4000); at += 32) {
    if (b[at + 11] === 0x0f && b[at] !== 0xe5 && b[at] !== 0) lfn.push(at);
    if (at >= dataStart && (at - dataStart) % bpc === 0 && b.toString('latin1', at, at + 11) === '.          ') dirs.push(at);
  }
  return { fat: [fatStart, fatStart + Math.min(spf * bps, 8192)], root: [rootStart, rootStart + Math.max(64, Math.min(rootEntries * 32, 4096))], dirs, lfn, bpc };
}

/**
 * A case's mutation, as a patch on its base image: { length, patches: [[offset, byte]...] (sorted), what }.
 * The random choices are those the earlier whole-copy version made (same seed, same image), but the
 * base is changed in place and restored, so a case costs no copy of a 33 MiB FAT32 image.
 */
function mutate(base, rnd, command = null) {
  const b = base.bytes;
  const original = new Map();
  const pick = (n) => Math.floor(rnd() * n);
  const flip = (lo, hi, count) => {
    for (let i = 0; i < count; i++) {
      const at = lo + pick(Math.max(1, hi - lo));
      if (at < b.length) {
        if (!original.has(at)) original.set(at, b[at]);
        b[at] = rnd() < 0.5 ? b[at] ^ (1 << pick(8)) : pick(256);
      }
    }
  };
  const done = (length, what) => {
    // Patches past a truncation are dropped (several NTFS mutations at once may truncate and patch).
    const patches = [...original.keys()].filter((at) => at < length).sort((x, y) => x - y).map((at) => [at, b[at]]);
    for (const at of [...grown.keys()].filter((at) => at < length).sort((x, y) => x - y)) patches.push([at, grown.get(at)]);
    for (const [at, byte] of original) b[at] = byte;
    return { length, patches, what };
  };
  // Bytes set past the end of the base (an image grown sparse): patches of their own.
  const grown = new Map();
  if (base.kind === 'ntfs') {
    const set = (at, byte) => {
      if (at >= b.length) grown.set(at, byte & 0xff);
      if (at < 0 || at >= b.length) return;
      if (!original.has(at)) original.set(at, b[at]);
      b[at] = byte & 0xff;
    };
    const m = mutateNtfsVolume(base.layout, rnd, { set, flip }, command?.focus?.(base) ?? null);
    return done(m.length ?? b.length, m.what);
  }
  if (base.kind === 'cart') {
    const set = (at, byte) => {
      if (at < 0 || at >= b.length) return;
      if (!original.has(at)) original.set(at, b[at]);
      b[at] = byte & 0xff;
    };
    const m = mutateCartridge(base.layout, rnd, { set, flip });
    return done(m.length ?? b.length, m.what);
  }
  if (base.kind === 'mft') {
    const r = rnd();
    if (r < 0.1) return done(pick(b.length), 'truncate');
    const record = 1024 * pick(b.length / 1024);
    flip(record, record + 1024, 1 + pick(8));
    return done(b.length, `record ${record / 1024}`);
  }
  const g = fatRegions(b);
  const r = rnd();
  if (r < 0.12) flip(11, 90, 1 + pick(3));
  else if (r < 0.4) flip(g.fat[0], g.fat[1], 1 + pick(8));
  else if (r < 0.6) flip(g.root[0], g.root[1], 1 + pick(8));
  else if (r < 0.75 && g.dirs.length > 0) {
    const at = g.dirs[pick(g.dirs.length)];
    flip(at, at + g.bpc, 1 + pick(8));
  } else if (r < 0.9 && g.lfn.length > 0) {
    const at = g.lfn[pick(g.lfn.length)];
    flip(at, at + 32, 1 + pick(4));
  } else if (r < 0.95) {
    return done(512 + pick(b.length - 512), 'truncate');
  } else {
    flip(g.fat[0], g.fat[1], 20 + pick(200));
    flip(g.root[0], g.root[1], 20 + pick(200));
    return done(b.length, 'heavy');
  }
  return done(b.length, ['boot', 'fat', 'root', 'dir', 'lfn'][r < 0.12 ? 0 : r < 0.4 ? 1 : r < 0.6 ? 2 : r < 0.75 ? 3 : 4]);
}

/** Runs [start, end) of the base that are not all zeros, in 64 KiB blocks: what a sparse copy must write. */
function dataRuns(bytes, block = 65536) {
  const zero = Buffer.alloc(block);
  const runs = [];
  for (let at = 0; at < bytes.length; at += block) {
    const end = Math.min(bytes.length, at + block);
    if (bytes.compare(zero, 0, end - at, at, end) === 0) continue;
    if (runs.length > 0 && runs.at(-1)[1] === at) runs.at(-1)[1] = end;
    else runs.push([at, end]);
  }
  return runs;
}

/**
 * Writes the case's image as a sparse file: the base's data runs, then the patched bytes.
 * Reads give exactly the mutated image (holes read as zeros), at a fraction of a full write.
 */
function writeCaseImage(path, base, m) {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, m.length);
    for (const [start, end] of base.runs) {
      if (start < m.length) writeSync(fd, base.bytes, start, Math.min(end, m.length) - start, start);
    }
    for (const [at, byte] of m.patches) writeSync(fd, Buffer.of(byte), 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

/** True when the file at path holds exactly the case's image: every byte compared, holes included. */
function unchangedImage(path, base, m) {
  const fd = openSync(path, 'r');
  try {
    if (fstatSync(fd).size !== m.length) return false;
    const chunk = Buffer.allocUnsafe(1 << 20);
    let p = 0;
    for (let at = 0; at < m.length; at += chunk.length) {
      const n = Math.min(chunk.length, m.length - at);
      if (readSync(fd, chunk, 0, n, at) !== n) return false;
      // Undo the patches inside this chunk (after checking them), then it must equal the base.
      for (; p < m.patches.length && m.patches[p][0] < at + n; p++) {
        const [off, byte] = m.patches[p];
        if (chunk[off - at] !== byte) return false;
        chunk[off - at] = base.bytes[off];
      }
      // Past the base (an NTFS case grown sparse), the image is zeros.
      const inBase = Math.max(0, Math.min(n, base.bytes.length - at));
      if (inBase > 0 && chunk.compare(base.bytes, at, at + inBase, 0, inBase) !== 0) return false;
      for (let k = inBase; k < n; k++) if (chunk[k] !== 0) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

// ---- commands ---------------------------------------------------------------
const FAT_COMMANDS = [
  { name: 'info', args: (img) => ['info', img], readOnly: true, codes: [0, 1] },
  { name: 'info --json', args: (img) => ['--json', 'info', img], readOnly: true, codes: [0, 1] },
  { name: 'ls -R -a -l --deleted', args: (img) => ['ls', '-R', '-a', '-l', '--deleted', img], readOnly: true, codes: [0, 1] },
  { name: 'ls -R --json', args: (img) => ['--json', 'ls', '-R', '-a', img], readOnly: true, codes: [0, 1] },
  { name: 'cat', args: (img) => ['cat', `${img}:/A long file name with spaces.text`], readOnly: true, codes: [0, 1] },
  { name: 'cat b.bin', args: (img) => ['cat', `${img}:/b.bin`], readOnly: true, codes: [0, 1] },
  { name: 'cp -r out', args: (img, dest) => ['cp', '-r', `${img}:/`, dest], readOnly: true, codes: [0, 1] },
  { name: 'fsck', args: (img) => ['fsck', img], readOnly: true, codes: [0, 4, 8] },
  { name: 'fsck --json', args: (img) => ['--json', 'fsck', img], readOnly: true, codes: [0, 4, 8] },
  { name: 'fsck --repair', args: (img) => ['fsck', '--repair', img], readOnly: false, codes: [0, 1, 4, 8] },
];
const MFT_COMMANDS = [
  { name: 'mft index', args: (img) => ['mft', 'index', img], readOnly: true, codes: [0, 1] },
  { name: 'mft index --deleted csv', args: (img) => ['mft', 'index', '--deleted', '--streams', '--format', 'csv', img], readOnly: true, codes: [0, 1] },
  { name: 'mft index bodyfile', args: (img) => ['mft', 'index', '--format', 'bodyfile', img], readOnly: true, codes: [0, 1] },
  { name: 'info', args: (img) => ['info', img], readOnly: true, codes: [0, 1] },
];
// Raw NTFS volumes through the Volume interface: every read command, each file kind's reader.
const NTFS_COMMANDS = [
  { name: 'info', args: (img) => ['info', img], readOnly: true, codes: [0, 1] },
  { name: 'info --json', args: (img) => ['--json', 'info', img], readOnly: true, codes: [0, 1] },
  { name: 'ls -R -a -l --deleted --streams', args: (img) => ['ls', '-R', '-a', '-l', '--deleted', '--streams', img], readOnly: true, codes: [0, 1] },
  { name: 'ls -R --json --deleted', args: (img) => ['--json', 'ls', '-R', '-a', '--deleted', img], readOnly: true, codes: [0, 1] },
  { name: 'cat compressed', args: (img, dest, base) => ['cat', `${img}:${base.paths.compressed}`], focus: (base) => base.paths.compressed, readOnly: true, codes: [0, 1] },
  { name: 'cat fragmented', args: (img, dest, base) => ['cat', `${img}:${base.paths.fragmented}`], focus: (base) => base.paths.fragmented, readOnly: true, codes: [0, 1] },
  { name: 'cat sparse', args: (img, dest, base) => ['cat', `${img}:${base.paths.sparse}`], focus: (base) => base.paths.sparse, readOnly: true, codes: [0, 1] },
  { name: 'cat stream', args: (img, dest, base) => ['cat', `${img}:${base.paths.stream}`], focus: (base) => base.paths.stream, readOnly: true, codes: [0, 1] },
  { name: 'cat many-runs', args: (img, dest, base) => ['cat', `${img}:${base.paths.many}`], focus: (base) => base.paths.many, readOnly: true, codes: [0, 1] },
  { name: 'cp -r out', args: (img, dest) => ['cp', '-r', `${img}:/`, dest], readOnly: true, codes: [0, 1] },
  { name: 'bench', args: (img) => ['bench', img, '--runs', '1', '--seconds', '0.05', '--mode', 'streaming'], readOnly: true, codes: [0, 1] },
];
// Cartridge images: the read commands, fsck, the snapshot table, verify.
const CART_COMMANDS = [
  { name: 'info', args: (img) => ['info', img], readOnly: true, codes: [0, 1] },
  { name: 'ls -R -l', args: (img) => ['ls', '-R', '-a', '-l', img], readOnly: true, codes: [0, 1] },
  { name: 'ls -R --json', args: (img) => ['--json', 'ls', '-R', '-a', img], readOnly: true, codes: [0, 1] },
  { name: 'cat packed', args: (img, dest, base) => ['cat', `${img}:${base.paths.packed}`], readOnly: true, codes: [0, 1] },
  { name: 'cat big', args: (img, dest, base) => ['cat', `${img}:${base.paths.big}`], readOnly: true, codes: [0, 1] },
  { name: 'cat snapshot', args: (img, dest, base) => ['cat', `${img}${base.paths.snapshot.startsWith('@') ? '' : ':'}${base.paths.snapshot}`], readOnly: true, codes: [0, 1] },
  { name: 'cp -r out', args: (img, dest) => ['cp', '-r', `${img}:/`, dest], readOnly: true, codes: [0, 1] },
  { name: 'fsck', args: (img) => ['fsck', img], readOnly: true, codes: [0, 4, 8] },
  { name: 'fsck --json', args: (img) => ['--json', 'fsck', img], readOnly: true, codes: [0, 4, 8] },
  { name: 'snapshot list', args: (img) => ['snapshot', 'list', img], readOnly: true, codes: [0, 1] },
  { name: 'verify', args: (img) => ['verify', img, '--pub', cartPub], readOnly: true, codes: [0, 1] },
];
const commandsOf = (base) => (base.kind === 'mft' ? MFT_COMMANDS : base.kind === 'ntfs' ? NTFS_COMMANDS : base.kind === 'cart' ? CART_COMMANDS : FAT_COMMANDS);

function runChild(args) {
  return new Promise((resolve) => {
    const rssFile = join(work, `rss-${process.hrtime.bigint()}`);
    // prlimit --cpu: a command spinning for CPU_SECONDS of CPU time gets SIGXCPU (a hang, however busy the machine is).
    const node = prlimit ? ['prlimit', `--cpu=${cpuSeconds}`, 'node', BIN, ...args] : ['node', BIN, ...args];
    const argv = timeTool ? [timeTool, '-f', '%M', '-o', rssFile, ...node] : node;
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdoutBytes = 0;
    let stderr = '';
    child.stdout.on('data', (d) => (stdoutBytes += d.length));
    child.stderr.on('data', (d) => {
      if (stderr.length < 200_000) stderr += d.toString('utf8');
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const started = Date.now();
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let rssKiB = null;
      try {
        rssKiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
        rmSync(rssFile, { force: true });
      } catch {}
      // /usr/bin/time reports a signal death as "Command terminated by signal N" and exits 128+N.
      const bySignal = /terminated by signal (\d+)/.exec(stderr);
      if (timeTool) stderr = stderr.split('\n').filter((l) => !/^Command (terminated|exited)/.test(l)).join('\n');
      resolve({ code, signal: signal ?? (bySignal ? Number(bySignal[1]) : null), timedOut, stderr, stdoutBytes, rssKiB, ms: Date.now() - started });
    });
  });
}

const listTree = (dir) => {
  const out = [];
  const walk = (d, rel) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      out.push(rel + e.name);
      if (e.isDirectory()) walk(join(d, e.name), rel + e.name + '/');
    }
  };
  walk(dir, '');
  return out;
};

function judge(c, r, p) {
  const { caseDir, imgName } = p;
  const problems = [];
  if (r.timedOut) problems.push(`timeout after ${timeoutMs} ms`);
  else if (r.signal !== null) problems.push(r.signal === 24 || r.signal === 'SIGXCPU' ? `over ${cpuSeconds} s of CPU time (hang)` : `killed by signal ${r.signal}`);
  else if (!c.codes.includes(r.code)) problems.push(`exit ${r.code} (expected one of ${c.codes.join(', ')})`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  const stray = lines.filter((l) => !l.startsWith('diskkit: '));
  if (stray.length > 0) problems.push(`stderr not diskkit: ${JSON.stringify(stray[0].slice(0, 200))}`);
  if (lines.some((l) => l.includes('internal error'))) problems.push(`internal error: ${lines.find((l) => l.includes('internal error')).slice(0, 200)}`);
  if (/\n\s+at .+\(.+:\d+:\d+\)/.test(r.stderr) || r.stderr.includes('FATAL ERROR')) problems.push('stack trace on stderr');
  if (r.rssKiB !== null && r.rssKiB > RSS_LIMIT_KIB) problems.push(`peak RSS ${Math.round(r.rssKiB / 1024)} MiB over ${RSS_LIMIT_KIB / 1024} MiB`);
  if (c.readOnly && !unchangedImage(join(caseDir, imgName), p.base, p.mutation)) problems.push('read-only command changed the image');
  const outside = listTree(caseDir).filter((p) => p !== imgName && p !== 'out' && !p.startsWith('out/'));
  if (outside.length > 0) problems.push(`wrote outside the destination: ${outside.slice(0, 3).join(', ')}`);
  return problems;
}

// ---- replay: --write-case I PATH writes case I's image and says which command it ran ----
const replay = process.argv.indexOf('--write-case');
if (replay >= 0) {
  const i = Number(process.argv[replay + 1]);
  const base = bases[i % bases.length];
  const commands = commandsOf(base);
  const c = commands[Math.floor(i / bases.length) % commands.length];
  const m = mutate(base, seededRandom(seed0 + i), c);
  writeCaseImage(process.argv[replay + 2], base, m);
  console.error(`mutation: ${m.what}`);
  console.log(`diskkit ${c.args(process.argv[replay + 2], 'OUT', base).join(' ')}`);
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

// ---- the run ------------------------------------------------------------------
// --start I: the first case when there is no state yet (continue a run whose state file was lost).
const startAt = Number(arg('--start', '0'));
const state = { seed: seed0, kinds: [...kinds].join(','), start: startAt, next: startAt, cases: 0, failures: 0, byCommand: {}, byExit: {}, byRunner: {}, rerunAlone: 0, maxRssKiB: 0, seconds: 0, ...(stateFile && existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, 'utf8')) : {}) };
if (state.seed !== seed0) throw new Error(`state file is for seed ${state.seed}, not ${seed0}`);
// A state written before --kinds existed was a fat,mft run.
if ((state.kinds ?? 'fat,mft') !== [...kinds].join(',')) throw new Error(`state file is for --kinds ${state.kinds ?? 'fat,mft'}, not ${[...kinds].join(',')}`);
const startedAt = Date.now();
const secondsBefore = state.seconds;
let next = state.next;
// The run is cases start .. start+N-1 of its seed: rerunning the same command after a stop
// continues to the same end (a state file written before `start` was kept began at case 0).
const end = (state.start ?? 0) + total;
const doneIndices = new Set();

function prepareCase(i) {
  const rnd = seededRandom(seed0 + i);
  const base = bases[i % bases.length];
  const commands = commandsOf(base);
  const c = commands[Math.floor(i / bases.length) % commands.length];
  const mutation = mutate(base, rnd, c);
  const caseDir = join(work, `case-${i}`);
  rmSync(caseDir, { recursive: true, force: true });
  mkdirSync(caseDir);
  const imgName = 'image.img';
  writeCaseImage(join(caseDir, imgName), base, mutation);
  return { i, base, c, what: mutation.what, mutation, caseDir, imgName, argv: c.args(join(caseDir, imgName), join(caseDir, 'out'), base) };
}

function record(p, r, problems, how) {
  const { i, base, c, what, caseDir } = p;
  rmSync(caseDir, { recursive: true, force: true });
  state.cases++;
  state.byCommand[c.name] = (state.byCommand[c.name] ?? 0) + 1;
  state.byRunner[how] = (state.byRunner[how] ?? 0) + 1;
  const exitKey = r.timedOut ? 'timeout' : r.signal !== null ? `signal ${r.signal}` : String(r.code);
  state.byExit[exitKey] = (state.byExit[exitKey] ?? 0) + 1;
  if (r.rssKiB !== null) state.maxRssKiB = Math.max(state.maxRssKiB, r.rssKiB);
  if (problems.length > 0) {
    state.failures++;
    const entry = { case: i, seed: seed0 + i, base: base.path.replace(root, ''), mutation: what, command: c.name, exit: exitKey, problems, stderr: r.stderr.slice(0, 2000) };
    if (!quiet) console.log(JSON.stringify(entry));
    if (outFile) appendFileSync(outFile, JSON.stringify(entry) + '\n');
  }
  doneIndices.add(i);
}

/** One case in its own child (prlimit CPU limit, /usr/bin/time peak RSS): the authoritative verdict. */
async function runCase(i) {
  const p = prepareCase(i);
  const r = await runChild(p.argv);
  record(p, r, judge(p.c, r, p), 'alone');
}

/** CPU time (user + system, seconds) a process has used so far, from /proc. */
function cpuSecondsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/**
 * Several cases in one child (scripts/fuzz-batch-child.js), each judged as a one-case
 * child's would be. The per-case CPU limit is kept by reading the child's CPU time
 * while a case runs; the heap limit is the child's. A case the batch judges bad, and
 * every case a batch did not finish normally (signal, exit, stray stderr, CPU or wall
 * limit), is rerun alone, and that run is the verdict.
 */
async function runBatch(indices) {
  const prepared = new Map(indices.map((i) => [i, prepareCase(i)]));
  const listFile = join(work, `batch-${indices[0]}.json`);
  writeFileSync(listFile, JSON.stringify(indices.map((i) => ({ i, argv: prepared.get(i).argv }))));
  const results = new Map();
  const outcome = await new Promise((resolve) => {
    const child = spawn('node', [BATCH_CHILD, listFile], { env, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let realStderr = '';
    child.stderr.on('data', (d) => (realStderr += d.toString('utf8')));
    let current = null;
    let limitHit = null;
    let pending = '';
    child.stdio[3].on('data', (d) => {
      pending += d.toString('utf8');
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const m = JSON.parse(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        if (m.start !== undefined) current = { i: m.start, cpu: cpuSecondsOf(child.pid) ?? 0, at: Date.now() };
        else {
          results.set(m.done, { code: m.code, signal: null, timedOut: false, stderr: m.stderr, stdoutBytes: null, rssKiB: m.hwmKiB, ms: Date.now() - current.at });
          current = null;
        }
      }
    });
    const watch = setInterval(() => {
      if (current === null || limitHit) return;
      const cpu = cpuSecondsOf(child.pid);
      if ((cpu !== null && cpu - current.cpu > cpuSeconds) || Date.now() - current.at > timeoutMs) {
        limitHit = current.i;
        child.kill('SIGKILL');
      }
    }, 250);
    child.on('close', (code, signal) => {
      clearInterval(watch);
      resolve({ normal: code === 0 && signal === null && realStderr.trim() === '' && limitHit === null });
    });
  });
  rmSync(listFile, { force: true });
  for (const i of indices) {
    const p = prepared.get(i);
    const r = results.get(i);
    // Stray output on the real stderr cannot be pinned on a case: then every case is rerun alone.
    const problems = r && outcome.normal ? judge(p.c, r, p) : ['not judged in the batch'];
    if (problems.length === 0) record(p, r, problems, 'batch');
    else {
      state.rerunAlone++;
      await runCase(i);
    }
  }
}
function saveState() {
  // Resume point: the lowest index not yet done (cases finish out of order with several jobs).
  let resume = state.next;
  while (doneIndices.has(resume)) doneIndices.delete(resume++);
  state.next = resume;
  state.seconds = secondsBefore + (Date.now() - startedAt) / 1000;
  if (stateFile) writeFileSync(stateFile, JSON.stringify(state, null, 2));
}

// --only I,J,...: rerun just these cases (a failure list), without touching the state file.
const only = arg('--only', null);
if (only !== null) {
  const list = only.split(',').map(Number);
  const workers = Array.from({ length: jobs }, async () => {
    for (let i = list.shift(); i !== undefined; i = list.shift()) await runCase(i);
  });
  await Promise.all(workers);
  state.seconds = (Date.now() - startedAt) / 1000;
} else {
  const workers = Array.from({ length: jobs }, async () => {
    while (next < end) {
      const indices = [];
      while (indices.length < batchSize && next < end) indices.push(next++);
      if (batchSize === 1) await runCase(indices[0]);
      else await runBatch(indices);
      saveState();
    }
  });
  await Promise.all(workers);
  saveState();
}
rmSync(work, { recursive: true, force: true });
const rate = state.cases / Math.max(1e-9, state.seconds);
const summary = { cases: state.cases, failures: state.failures, seconds: Math.round(state.seconds), casesPerSecond: Number(rate.toFixed(2)), maxRssMiB: Math.round(state.maxRssKiB / 1024), byExit: state.byExit, byCommand: state.byCommand, byRunner: state.byRunner, rerunAlone: state.rerunAlone };
console.log(JSON.stringify(summary));
process.exitCode = state.failures > 0 ? 1 : 0;

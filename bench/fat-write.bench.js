// FAT write path, side by side in one run:
// - cp of a 1 GiB host file into a fresh FAT32 image vs mcopy (target: ≥ 1.5× faster);
// - cp -r of 10,000 small files vs mcopy -s (target: at least as fast), durable against
//   mcopy -s + sync --data and --no-sync against plain mcopy -s, as for the 1 GiB file;
// - allocating one cluster on a 90%-full, fragmented 4 GiB FAT32 image, in-process
//   through the allocator (target: < 50 µs per allocation).
// Every timed run writes into a fresh copy of a freshly made image (the copy and a
// sync before it are not timed), diskkit and the peer taking turns; host trees are
// written once into fresh directories.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { fmt, ratio } from './harness.js';

const here = fileURLToPath(new URL('./', import.meta.url));
const work = join(here, 'work');
const bin = fileURLToPath(new URL('../bin/diskkit', import.meta.url));
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
const node = process.execPath;

/**
 * Runs each entry `runs` times on a fresh copy of `template` at its `img` (copy not
 * timed), the entries taking turns round by round, after one untimed warm-up round.
 * Returns per entry the median wall time, with `.cpu` the median CPU time (user+sys,
 * GNU time), which is steadier than wall time on a shared machine.
 */
function timeAlternating(template, entries, runs) {
  const times = entries.map(() => []);
  const cpus = entries.map(() => []);
  const cpuFile = join(work, 'cpu.txt');
  for (let i = 0; i <= runs; i++) {
    entries.forEach(({ img, cmd, args }, e) => {
      rmSync(img, { force: true });
      execFileSync('cp', ['--sparse=always', template, img]);
      // Write back the previous run's dirty pages first, so no run pays for another's.
      execFileSync('sync');
      const t0 = process.hrtime.bigint();
      const r = spawnSync('/usr/bin/time', ['-o', cpuFile, '-f', '%U %S', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
      const t = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      if (i > 0) {
        // the first round warms the page cache
        times[e].push(t);
        cpus[e].push(user + sys);
      }
      rmSync(img, { force: true });
    });
  }
  rmSync(cpuFile, { force: true });
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return entries.map((_, e) => Object.assign(new Number(median(times[e])), { cpu: median(cpus[e]) }));
}

function bigFile(log) {
  const src = join(work, 'write-1g.bin');
  if (existsSync(src)) return src;
  log('writing a 1 GiB host file');
  const fd = openSync(src, 'w');
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < 1024; i++) {
    chunk.fill((i * 7) & 0xff);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  return src;
}

function smallTree(log) {
  const root = join(work, 'write-10k');
  if (existsSync(root)) return root;
  log('writing a host tree of 10,000 small files (100 directories × 100)');
  const tmp = mkdtempSync(join(work, 'write-10k-tmp-'));
  for (let d = 0; d < 100; d++) {
    const dir = join(tmp, `directory ${String(d).padStart(3, '0')}`);
    mkdirSync(dir);
    for (let f = 0; f < 100; f++) writeFileSync(join(dir, `small file ${String(f).padStart(3, '0')}.txt`), Buffer.alloc(500 + ((d * 100 + f) % 3000), 97 + (f % 26)));
  }
  execFileSync('mv', [tmp, root]);
  return root;
}

function template(name, mib) {
  const img = join(work, name);
  if (!existsSync(img)) execFileSync('mkfs.fat', ['-C', '-F', '32', img, String(mib * 1024)], { stdio: 'ignore' });
  return img;
}

async function allocationFigure(log) {
  const img = join(work, 'alloc-4g.img');
  rmSync(img, { force: true });
  execFileSync('mkfs.fat', ['-C', '-F', '32', '-s', '8', img, String(4 * 1024 * 1024)], { stdio: 'ignore' });
  const { FileBlockSource } = await import('../dist/io/block-source.js');
  const { FatVolume } = await import('../dist/engine/fat/volume.js');
  const { ClusterAllocator, measureAllocation } = await import('../dist/engine/fat/allocator.js');
  // 90% full and fragmented: every tenth cluster free, the rest single-cluster chains.
  let volume = FatVolume.open(FileBlockSource.open(img, { writable: true }), { writable: true });
  const { fatType, clusterCount } = volume.boot;
  if (fatType !== 'fat32') throw new Error('expected FAT32');
  const fatBytes = Buffer.alloc((clusterCount + 2) * 4);
  fatBytes.writeUInt32LE(0x0ffffff8, 0);
  fatBytes.writeUInt32LE(0x0fffffff, 4);
  for (let c = 2; c < clusterCount + 2; c++) if (c % 10 !== 0) fatBytes.writeUInt32LE(0x0fffffff, c * 4);
  volume.source.writeAt(fatBytes, 0, fatBytes.length, volume.fat.fatPosition(0));
  volume.close();
  volume = FatVolume.open(FileBlockSource.open(img));
  const t0 = process.hrtime.bigint();
  const allocator = ClusterAllocator.fromFat(volume.fat, null);
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const used = 1 - allocator.freeCount / clusterCount;
  const result = measureAllocation(allocator, 20000);
  volume.close();
  rmSync(img, { force: true });
  log(`allocation: ${result.microsPerAllocation.toFixed(2)} µs each over ${result.allocations} allocations; bitmap built in ${buildMs.toFixed(1)} ms (${clusterCount} clusters, ${(used * 100).toFixed(1)}% used)`);
  return { ...result, buildMs, clusterCount, used };
}

export default async function ({ log }) {
  mkdirSync(work, { recursive: true });
  const src = bigFile(log);
  const tree = smallTree(log);
  const bigTemplate = template('write-1200m-template.img', 1200);
  const treeTemplate = template('write-256m-template.img', 256);
  const rows = [];

  // diskkit fsyncs the image before it commits (crash safety, README); mcopy does not. So the
  // durable run is compared with mcopy followed by an fdatasync of the image (coreutils
  // `sync --data IMG`), and `--no-sync` with mcopy alone.
  const [ours1, peer1, fast1, peerFast1] = timeAlternating(bigTemplate, [
    { img: join(work, 'w-a.img'), cmd: bin, args: ['cp', src, `${join(work, 'w-a.img')}:/big.bin`] },
    { img: join(work, 'w-b.img'), cmd: 'sh', args: ['-c', 'mcopy -i "$0" "$1" ::/big.bin && sync --data "$0"', join(work, 'w-b.img'), src] },
    { img: join(work, 'w-c.img'), cmd: bin, args: ['--no-sync', 'cp', src, `${join(work, 'w-c.img')}:/big.bin`] },
    { img: join(work, 'w-d.img'), cmd: 'mcopy', args: ['-i', join(work, 'w-d.img'), src, '::/big.bin'] },
  ], 3);
  log(`cp 1 GiB in: diskkit ${fmt(ours1)} (CPU ${fmt(ours1.cpu)}) vs mcopy + sync --data ${fmt(peer1)} (CPU ${fmt(peer1.cpu)}); --no-sync ${fmt(fast1)} vs mcopy ${fmt(peerFast1)}`);
  rows.push(`| cp 1 GiB host file into a fresh FAT32 image (durable: diskkit's default fsync) | ${fmt(ours1)} (CPU ${fmt(ours1.cpu)}) | mcopy + \`sync --data IMG\` ${fmt(peer1)} (CPU ${fmt(peer1.cpu)}) | ${ratio(ours1, peer1)} (${(peer1 / ours1).toFixed(2)}× faster; CPU ${ratio(ours1.cpu, peer1.cpu)}) | ≥ 1.5× faster (ratio ≤ 0.67) |`);
  rows.push(`| the same, \`diskkit --no-sync cp\` vs plain mcopy (neither flushes) | ${fmt(fast1)} (CPU ${fmt(fast1.cpu)}) | mcopy ${fmt(peerFast1)} (CPU ${fmt(peerFast1.cpu)}) | ${ratio(fast1, peerFast1)} (${(peerFast1 / fast1).toFixed(2)}× faster; CPU ${ratio(fast1.cpu, peerFast1.cpu)}) | ≥ 1.5× faster (ratio ≤ 0.67) |`);

  // As for the 1 GiB file: the durable default against mcopy + fdatasync, --no-sync against mcopy alone.
  const mcopyTree = (img) => ['-s', '-i', img, ...Array.from({ length: 100 }, (_, d) => join(tree, `directory ${String(d).padStart(3, '0')}`)), '::/'];
  const [ours2, peer2, fast2, peerFast2] = timeAlternating(treeTemplate, [
    { img: join(work, 't-a.img'), cmd: bin, args: ['cp', '-r', `${tree}/.`, `${join(work, 't-a.img')}:/`] },
    { img: join(work, 't-b.img'), cmd: 'sh', args: ['-c', 'mcopy "$@" && sync --data "$3"', 'mcopy', ...mcopyTree(join(work, 't-b.img'))] },
    { img: join(work, 't-c.img'), cmd: bin, args: ['--no-sync', 'cp', '-r', `${tree}/.`, `${join(work, 't-c.img')}:/`] },
    { img: join(work, 't-d.img'), cmd: 'mcopy', args: mcopyTree(join(work, 't-d.img')) },
  ], 5);
  log(`cp -r 10,000 files: diskkit ${fmt(ours2)} (CPU ${fmt(ours2.cpu)}) vs mcopy -s + sync --data ${fmt(peer2)} (CPU ${fmt(peer2.cpu)}); --no-sync ${fmt(fast2)} vs mcopy -s ${fmt(peerFast2)}`);
  rows.push(`| cp -r of 10,000 small files (100 dirs) into a fresh FAT32 image (durable: diskkit's default fsync) | ${fmt(ours2)} (CPU ${fmt(ours2.cpu)}) | mcopy -s + \`sync --data IMG\` ${fmt(peer2)} (CPU ${fmt(peer2.cpu)}) | ${ratio(ours2, peer2)} (CPU ${ratio(ours2.cpu, peer2.cpu)}) | ratio ≤ 1.0 |`);
  rows.push(`| the same, \`diskkit --no-sync cp -r\` vs plain mcopy -s (neither flushes) | ${fmt(fast2)} (CPU ${fmt(fast2.cpu)}) | mcopy -s ${fmt(peerFast2)} (CPU ${fmt(peerFast2.cpu)}) | ${ratio(fast2, peerFast2)} (CPU ${ratio(fast2.cpu, peerFast2.cpu)}) | ratio ≤ 1.0 |`);

  const alloc = await allocationFigure(log);
  rows.push(`| allocate one cluster, 4 GiB FAT32 ${(alloc.used * 100).toFixed(0)}% full (fragmented), in-process | ${alloc.microsPerAllocation.toFixed(2)} µs | (bitmap built once in ${alloc.buildMs.toFixed(0)} ms for ${alloc.clusterCount} clusters) | — | < 50 µs |`);
  return `## FAT write (cp in, cp -r, allocation)\n\n| what | diskkit | peer | ratio | target |\n|---|---|---|---|---|\n${rows.join('\n')}\n`;
}

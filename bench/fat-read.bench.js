// FAT read path: cat / cp of a 1 GiB contiguous file vs mtype / mcopy -n, start-up vs
// node -e 0, and ls -R --json of 20,000- and 1,000,000-file images vs mdir -/.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeSync, closeSync, mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { alternateCommands, fmt, ratio } from './harness.js';

const here = fileURLToPath(new URL('./', import.meta.url));
const work = join(here, 'work');
const bin = fileURLToPath(new URL('../bin/diskkit', import.meta.url));
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
const node = process.execPath;

function bigImage(log) {
  const img = join(work, 'big.img');
  if (existsSync(img)) return img;
  log('building big.img (1 GiB file in a FAT32 image)');
  const src = join(work, 'big.bin');
  const fd = openSync(src, 'w');
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < 1024; i++) {
    chunk.fill(i & 0xff);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  execFileSync('mkfs.fat', ['-C', '-F', '32', img, String(1200 * 1024)], { stdio: 'ignore' });
  execFileSync('mcopy', ['-i', img, src, '::/big.bin'], { env });
  rmSync(src);
  return img;
}

function treeImage(name, dirs, files, mib, log) {
  const img = join(work, name);
  if (existsSync(img)) return img;
  log(`building ${name} (${dirs} × ${files} files)`);
  execFileSync(node, [join(here, 'make-fat-tree-image.js'), img, String(dirs), String(files), String(mib)], { stdio: 'ignore' });
  // The image is written by diskkit's own encoders: the peer checks it before anything is measured on it.
  execFileSync('fsck.fat', ['-n', img], { stdio: 'ignore' });
  return img;
}

export default async function ({ log }) {
  mkdirSync(work, { recursive: true });
  const big = bigImage(log);
  const t20k = treeImage('t20k.img', 20, 1000, 512, log);
  const t1m = treeImage('t1m.img', 1000, 1000, 1024, log);
  const rows = [];
  const pair = (what, ours, peer, target, runs = 5) => {
    // diskkit and the peer take turns, round after round: both see the same machine load.
    const [a, b] = alternateCommands([[ours[0], ours.slice(1)], [peer[0], peer.slice(1)]], runs, { env });
    const cpu = (r) => ` (CPU ${fmt(r.cpu)})`;
    const cpuRatio = a.cpu && b.cpu ? ratio(a.cpu, b.cpu) : '—';
    log(`${what}: diskkit ${fmt(a.wall)}${cpu(a)} vs ${fmt(b.wall)}${cpu(b)}`);
    rows.push(`| ${what} | ${fmt(a.wall)}${cpu(a)} | ${peer.join(' ').replaceAll(work + '/', '').replace(/cp-[A-Za-z0-9]+\//g, '').replace(node, 'node')} ${fmt(b.wall)}${cpu(b)} | ${ratio(a.wall, b.wall)} (CPU ${cpuRatio}) | ${target} |`);
  };
  pair('cat 1 GiB > /dev/null', [bin, 'cat', `${big}:/big.bin`], ['mtype', '-i', big, '::/big.bin'], 'ratio ≤ 1.67 (≥ 60% throughput)');
  const outDir = mkdtempSync(join(work, 'cp-'));
  pair('cp 1 GiB out', [bin, 'cp', `${big}:/big.bin`, join(outDir, 'a.bin')], ['mcopy', '-n', '-o', '-i', big, '::/big.bin', join(outDir, 'b.bin')], 'ratio ≤ 1.0', 3);
  rmSync(outDir, { recursive: true, force: true });
  pair('--version', [bin, '--version'], [node, '-e', '0'], 'ratio ≤ 1.3', 10);
  pair('ls -R --json, 20,020 entries', [bin, '--json', 'ls', '-R', t20k], ['mdir', '-i', t20k, '-/', '::/'], 'ratio ≤ 2.0');
  pair('ls -R --json, 1,001,000 entries', [bin, '--json', 'ls', '-R', t1m], ['mdir', '-i', t1m, '-/', '::/'], 'ratio < 1.0', 3);
  return `## FAT read (cat, cp, start-up, ls)\n\n| what | diskkit | peer | ratio | target |\n|---|---|---|---|---|\n${rows.join('\n')}\n`;
}

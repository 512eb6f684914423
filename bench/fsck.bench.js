// fsck: `diskkit fsck` vs `fsck.fat -n` on FAT32 images of 20,000 and 1,000,000 files
// (bench/make-fat-tree-image.js), whole-process medians and peak RSS of both. The files
// have sizes spread over 0..16 KiB (20k) or 0..8 KiB (1M), each with its own cluster
// chain, so both tools walk about 50,000 / 1,500,000 allocated clusters, not only
// directory entries. `node -e 0` is listed as the floor any Node program starts from.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { alternateCommands, timeCommand, fmt, ratio } from './harness.js';

const here = fileURLToPath(new URL('./', import.meta.url));
const work = join(here, 'work');
const bin = fileURLToPath(new URL('../bin/diskkit', import.meta.url));
const node = process.execPath;

function treeImage(name, dirs, files, mib, maxFileBytes, log) {
  const img = join(work, name);
  if (existsSync(img)) return img;
  log(`building ${name} (${dirs} × ${files} files of 0..${maxFileBytes} bytes)`);
  execFileSync(node, [join(here, 'make-fat-tree-image.js'), img, String(dirs), String(files), String(mib), String(maxFileBytes)], { stdio: 'ignore' });
  return img;
}

/** fsck.fat exits 0 on a clean image; the harness requires exit 0 of both. */
function measure(img, runs) {
  // The two take turns, round after round, so both see the same machine load; peak RSS from the same runs.
  const [dk, peer] = alternateCommands([[bin, ['fsck', img]], ['fsck.fat', ['-n', img]]], runs);
  return { dk: { median: dk.wall }, peer: { median: peer.wall }, dkMem: dk.rss, peerMem: peer.rss };
}

export default async function ({ log }) {
  mkdirSync(work, { recursive: true });
  const t20k = treeImage('t20k-data.img', 20, 1000, 1024, 16384, log);
  const t1m = treeImage('t1m-data.img', 1000, 1000, 8192, 8192, log);
  const rows = [];
  const floor = timeCommand(node, ['-e', '0'], { runs: 7 });
  rows.push(`| node -e 0 (start-up floor) | ${fmt(floor.median)} | | | |`);
  for (const [label, img, runs, target] of [['20,000 files', t20k, 7, '≤ 2×'], ['1,000,000 files', t1m, 3, '< 1×']]) {
    log(`fsck ${label}`);
    const m = measure(img, runs);
    const mem = (v) => (v === null ? '?' : `${v.toFixed(0)} MiB`);
    rows.push(`| fsck ${label} (FAT32) | ${fmt(m.dk.median)}, ${mem(m.dkMem)} | fsck.fat -n ${fmt(m.peer.median)}, ${mem(m.peerMem)} | ${ratio(m.dk.median, m.peer.median)} | ${target} |`);
  }
  return `## fsck\n\n| what | diskkit (time, peak RSS) | peer (time, peak RSS) | ratio | target |\n|---|---|---|---|---|\n${rows.join('\n')}\n`;
}

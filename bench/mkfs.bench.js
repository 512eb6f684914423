// `diskkit mkfs` against `mkfs.fat -C`, side by side in one run, at 32 GiB and 1 TiB.
// Both create a new sparse file each time (fresh names in bench/work/, deleted after
// each run outside the timing); runs alternate between the two tools so drift hits both.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmt, ratio, timeCommand } from './harness.js';

const work = fileURLToPath(new URL('./work/', import.meta.url));
const bin = fileURLToPath(new URL('../bin/diskkit', import.meta.url));
const RUNS = 7;

const SIZES = [
  { name: '32 GiB', bytes: 32 * 2 ** 30, target: 'within 2×', ok: (r) => r <= 2 },
  { name: '1 TiB', bytes: 2 ** 40, target: 'faster (< 1×)', ok: (r) => r < 1 },
];

let serial = 0;
function freshPath(tool) {
  return `${work}${tool}-${process.pid}-${Date.now()}-${++serial}.img`;
}

function timeOnce(cmd, args, image) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(image, { force: true });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export default async function mkfsBench({ log }) {
  mkdirSync(work, { recursive: true });
  const diskkitRun = (bytes) => {
    const image = freshPath('diskkit');
    return timeOnce(bin, ['mkfs', image, '--size', `${bytes / 1024}K`, '--quiet'], image);
  };
  const mkfsFatRun = (bytes) => {
    const image = freshPath('mkfs.fat');
    return timeOnce('mkfs.fat', ['-C', image, String(bytes / 1024)], image);
  };
  // The floor any Node CLI pays, measured in the same run, to show how much of the 32 GiB figure is start-up.
  const nodeFloor = timeCommand('node', ['-e', '0'], { runs: RUNS }).median;
  log(`node -e 0: ${fmt(nodeFloor)}`);
  const rows = [];
  for (const size of SIZES) {
    diskkitRun(size.bytes); // warm-up: page cache, node's compile cache
    mkfsFatRun(size.bytes);
    const ours = [];
    const theirs = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(diskkitRun(size.bytes));
      theirs.push(mkfsFatRun(size.bytes));
    }
    const [a, b] = [median(ours), median(theirs)];
    log(`mkfs ${size.name}: diskkit ${fmt(a)}, mkfs.fat ${fmt(b)} (${ratio(a, b)})`);
    rows.push(`| ${size.name} FAT32 | ${fmt(a)} | ${fmt(b)} | ${ratio(a, b)} | ${size.target} | ${size.ok(a / b) ? 'met' : 'missed'} |`);
  }
  return [
    '## mkfs: new sparse FAT32 image',
    '',
    `\`diskkit mkfs IMG --size S\` vs \`mkfs.fat -C IMG BLOCKS\`, whole-process wall time, median of ${RUNS} alternating runs after one warm-up each; a fresh file name every run.`,
    'diskkit writes only the non-zero sectors (boot sectors, FSInfo, the first sector of each FAT, the root directory); mkfs.fat writes every FAT sector, zeros included.',
    '',
    '| image | diskkit | mkfs.fat | ratio (diskkit / mkfs.fat) | target | |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `Start-up floor in the same run: \`node -e 0\` ${fmt(nodeFloor)}; the rest of diskkit's time at 32 GiB is its start-up (a plain mkfs runs from the quick-mkfs bundle and its code cache, without commander) and formatting (not measured apart).`,
  ].join('\n');
}

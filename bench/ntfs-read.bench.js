// NTFS read benchmark (issue 10, section 3): diskkit reading NTFS volumes side by
// side with The Sleuth Kit in the same run, commands taking turns, medians:
//   - `cat` of a 1 GiB contiguous file vs `icat`;
//   - `cat` of a 12 MiB file in 3,000 runs vs a contiguous file of the same size, and
//     the floor beside them: a bare Node process reading the same runs (from istat) with
//     one pread each, and the contiguous file in 1 MiB preads (bare-pread-runs.js);
//   - `cp -r` out of a 10,000-file tree vs `tsk_recover -a -d DIR` (fresh output
//     directories every run: ext4 is slow to re-create files soon after deleting them),
//     and the floor beside them: a bare Node process creating the same files from
//     memory (bare-small-files.js);
//   - LZNT1: 64 MiB of compressed text read through the volume in-process (MB/s of
//     output), against a bare byte-copy loop measured just before (the machine's
//     ceiling right now), and `cat` vs `icat` of the same file;
//   - `ls -R --json` of the 1M-file volume of bench/make-large-ntfs.sh vs `fls -r -p`,
//     and one directory listed through `$I30` (`ls`) vs the whole-tree MFT index.
// Images: bench/make-ntfs-read-image.sh → DISKKIT_NTFS_BENCH_DIR (default
// /tmp/diskkit-bench-ntfs-read); the 1M-file volume is shared with mft.bench.js
// (DISKKIT_MFT_BENCH_DIR, default /tmp/diskkit-bench-mft). Both are built when missing
// (needs root for FUSE). Not part of CI.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { fmt, ratio } from './harness.js';

const bin = fileURLToPath(new URL('../bin/diskkit', import.meta.url));
const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
/** The bare-Node floor of the cp -r row (bare-small-files.js). */
const bare = fileURLToPath(new URL('./bare-small-files.js', import.meta.url));
/** The bare-Node floor of the fragmented cat row: one pread per run (bare-pread-runs.js). */
const barePread = fileURLToPath(new URL('./bare-pread-runs.js', import.meta.url));

/**
 * Runs the commands in turn, `runs` rounds after a warm-up round, under /usr/bin/time.
 * A command is [cmd, args] or a function of the round returning one (fresh output
 * directories). Returns per command the median wall (hrtime around the child process:
 * /usr/bin/time prints wall at 10 ms resolution, too coarse for the fragmented /
 * contiguous ratio of two ~100 ms commands) and CPU seconds and peak RSS (from time).
 */
function alternate(commands, runs) {
  const samples = commands.map(() => []);
  for (let round = -1; round < runs; round++) {
    commands.forEach((command, i) => {
      const [cmd, args] = typeof command === 'function' ? command(round) : command;
      const t0 = process.hrtime.bigint();
      const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      const [, user, sys, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
      if (round >= 0) samples[i].push({ wall, cpu: user + sys, rss: kb / 1024 });
    });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
  return samples.map((xs) => ({ wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)), rss: Math.max(...xs.map((x) => x.rss)) }));
}

/** `sh -c` wrapper so stdout goes to /dev/null inside the timed process. */
const sh = (line) => ['sh', ['-c', line]];
const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

function inode(image, path) {
  return execFileSync('ifind', ['-n', path, image], { encoding: 'utf8' }).trim();
}

/** In-process: MB/s of decompressed output reading `path` through NtfsVolume.openFile, and a bare byte-copy loop's MB/s just before. */
async function lznt1Throughput(image, path) {
  const { FileBlockSource } = await import(dist('io/block-source.js'));
  const { NtfsVolume } = await import(dist('engine/ntfs/index.js'));
  const control = () => {
    const a = new Uint8Array(64 << 20);
    const b = new Uint8Array(64 << 20);
    const t0 = performance.now();
    for (let i = 0; i < a.length; i++) b[i] = a[i];
    return a.length / 1e6 / ((performance.now() - t0) / 1000);
  };
  const volume = NtfsVolume.open(FileBlockSource.open(image));
  try {
    const file = volume.openFile(path);
    const buf = new Uint8Array(1 << 20);
    const once = () => {
      const t0 = performance.now();
      for (let at = 0; at < file.size; at += buf.length) file.read(buf, Math.min(buf.length, file.size - at), at);
      return file.size / 1e6 / ((performance.now() - t0) / 1000);
    };
    once();
    const rates = [];
    const controls = [];
    const cpuRates = [];
    for (let i = 0; i < 5; i++) {
      controls.push(control());
      // CPU time as well as wall time: on a shared machine the wall rate measures the other processes too.
      const cpu0 = process.cpuUsage();
      rates.push(once());
      const cpu = process.cpuUsage(cpu0);
      cpuRates.push(file.size / 1e6 / ((cpu.user + cpu.system) / 1e6));
    }
    const median = (xs) => [...xs].sort((x, y) => x - y)[2];
    return { mbps: median(rates), cpuMbps: median(cpuRates), control: median(controls), size: file.size };
  } finally {
    volume.close();
  }
}

export default async function ({ log }) {
  const dir = process.env.DISKKIT_NTFS_BENCH_DIR ?? '/tmp/diskkit-bench-ntfs-read';
  const image = join(dir, 'read-bench.ntfs');
  if (!existsSync(image)) {
    log(`building the NTFS read image in ${dir} (mkntfs + ntfs-3g)...`);
    execFileSync(fileURLToPath(new URL('./make-ntfs-read-image.sh', import.meta.url)), [dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  readFileSync(image).length; // warm the page cache (sparse file: 1.2 GiB read)
  const big = inode(image, 'big.bin');
  const text = inode(image, 'compressed/text.txt');
  const tree = inode(image, 'tree');

  log('cat 1 GiB vs icat; fragmented vs contiguous and the bare-Node pread floor (median of 5)...');
  // The floor's runs of both files, from The Sleuth Kit (not timed).
  const runsDir = mkdtempSync('/dev/shm/diskkit-bench-runs-');
  const runsFile = (name) => {
    const file = join(runsDir, `${name}.json`);
    execFileSync(process.execPath, [barePread, 'runs', image, inode(image, `${name}.bin`), file]);
    return file;
  };
  const fragRuns = runsFile('fragmented');
  const contigRuns = runsFile('contiguous');
  const fragRunCount = JSON.parse(readFileSync(fragRuns, 'utf8')).runs.length;
  const [icatBig, catBig, catFrag, catContig, floorFrag, floorContig] = alternate([
    sh(`icat ${q(image)} ${big} > /dev/null`),
    sh(`${q(bin)} cat ${q(image + ':/big.bin')} > /dev/null`),
    sh(`${q(bin)} cat ${q(image + ':/fragmented.bin')} > /dev/null`),
    sh(`${q(bin)} cat ${q(image + ':/contiguous.bin')} > /dev/null`),
    sh(`${q(process.execPath)} ${q(barePread)} read ${q(image)} ${q(fragRuns)} > /dev/null`),
    sh(`${q(process.execPath)} ${q(barePread)} read ${q(image)} ${q(contigRuns)} > /dev/null`),
  ], 5);
  spawnSync('rm', ['-rf', runsDir]);
  // How many preads diskkit made for the fragmented file (untimed): runs close together on disk are read as one span.
  const fragStats = spawnSync(bin, ['cat', '--stats', `${image}:/fragmented.bin`], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' }).stderr;
  const fragReads = Number(/in (\d+) read calls/.exec(fragStats)?.[1] ?? NaN);
  const fragRatio = catFrag.wall / catContig.wall;
  const floorRatio = floorFrag.wall / floorContig.wall;
  // Runs close together on the volume share one read (io/read-spans.ts); far apart, each run is one read, as in the floor.
  const beatsFloor = fragReads < fragRunCount
    ? ` diskkit made ${fragReads.toLocaleString('en-US')} read calls for the ${fragRunCount.toLocaleString('en-US')} runs: runs that lie close together on the volume (gaps up to 64 KiB, bytes read over at most the bytes wanted) are read with one pread of the span covering them and copied out${fragRatio < floorRatio ? ', which is what puts its ratio below the floor\'s' : ''}.`
    : ` diskkit made ${fragReads.toLocaleString('en-US')} read calls for the ${fragRunCount.toLocaleString('en-US')} runs (a run cut by a chunk boundary is two): the runs lie too far apart on the volume to share a read (a gap over 64 KiB), so it reads them one by one as the floor does.`;

  log('cp -r of the 10,000-file tree vs tsk_recover -a and the bare-Node floor (median of 3)...');
  const outRoot = mkdtempSync('/dev/shm/diskkit-bench-ntfs-');
  // The floor's list of files (paths, sizes, times) from one untimed recovery of the tree.
  execFileSync('tsk_recover', ['-a', '-d', tree, image, join(outRoot, 'listed')], { stdio: 'ignore' });
  const manifestFile = join(outRoot, 'manifest.json');
  execFileSync(process.execPath, [bare, 'manifest', join(outRoot, 'listed'), manifestFile]);
  const [recover, cpOut, bareWrite, bareWrite2] = alternate([
    (round) => ['tsk_recover', ['-a', '-d', tree, image, join(outRoot, `tsk-${round + 1}`)]],
    (round) => [bin, ['cp', '-r', `${image}:/tree`, join(outRoot, `diskkit-${round + 1}`)]],
    (round) => [process.execPath, [bare, 'write', manifestFile, join(outRoot, `bare-${round + 1}`)]],
    // diskkit writes on two threads (the main one and a host-write worker): the same floor on two.
    (round) => [process.execPath, [bare, 'write2', manifestFile, join(outRoot, `bare2-${round + 1}`)]],
  ], 3);
  spawnSync('rm', ['-rf', outRoot]);

  log('LZNT1: 64 MiB of compressed text...');
  const lz = await lznt1Throughput(image, '/compressed/text.txt');
  const [icatText, catText] = alternate([
    sh(`icat ${q(image)} ${text} > /dev/null`),
    sh(`${q(bin)} cat ${q(image + ':/compressed/text.txt')} > /dev/null`),
  ], 5);

  const largeDir = process.env.DISKKIT_MFT_BENCH_DIR ?? '/tmp/diskkit-bench-mft';
  const large = join(largeDir, 'large.ntfs');
  if (!existsSync(large)) {
    log(`building the 1M-file NTFS image in ${largeDir}...`);
    execFileSync(fileURLToPath(new URL('./make-large-ntfs.sh', import.meta.url)), [largeDir, process.env.DISKKIT_MFT_BENCH_FILES ?? '1000000'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  spawnSync('icat', [large, '0'], { stdio: 'ignore' });
  log('ls -R --json vs fls -r -p on the 1M-file volume; one directory vs the whole-tree index (median of 3)...');
  const [flsRun, lsRun, lsOne, mftIndex] = alternate([
    sh(`fls -r -p ${q(large)} > /dev/null`),
    sh(`${q(bin)} ls -R --json ${q(large + ':/')} > /dev/null`),
    sh(`${q(bin)} ls -l ${q(large + ':/group-0/dir-0')} > /dev/null`),
    sh(`${q(bin)} mft index ${q(large)} --format jsonl > /dev/null`),
  ], 3);

  const row = (what, r) => `| ${what} | ${fmt(r.wall)} | ${r.cpu.toFixed(2)} | ${r.rss.toFixed(0)} |`;
  return `## NTFS reading (\`cat\`, \`cp -r\`, \`ls -R\` vs The Sleuth Kit)

Images: \`bench/make-ntfs-read-image.sh\` (1 GiB contiguous file, a 12 MiB file in 3,000 runs and a contiguous one of the same size, 10,000 files of 100 B–16 KB in 100 directories, 64 MiB of text LZNT1-compressed) and the 1M-file volume of \`bench/make-large-ntfs.sh\`. Commands take turns, page cache warm, medians; output to /dev/null (cp: fresh directories on /dev/shm).

| command | wall | CPU s (user+sys) | peak MiB |
| --- | --- | --- | --- |
${row('`icat IMG big.bin`', icatBig)}
${row('`diskkit cat IMG:/big.bin`', catBig)}
${row('`diskkit cat IMG:/fragmented.bin` (3,000 runs)', catFrag)}
${row('`diskkit cat IMG:/contiguous.bin`', catContig)}
${row(`bare Node reading fragmented.bin's ${fragRunCount.toLocaleString('en-US')} runs, one pread each (the floor)`, floorFrag)}
${row('bare Node reading contiguous.bin in 1 MiB preads', floorContig)}
${row('`tsk_recover -a -d TREE IMG OUT`', recover)}
${row('`diskkit cp -r IMG:/tree OUT`', cpOut)}
${row('bare Node creating the same files from memory (the floor)', bareWrite)}
${row('the same floor on two threads, as diskkit writes (main + one worker thread)', bareWrite2)}
${row('`icat IMG compressed/text.txt`', icatText)}
${row('`diskkit cat IMG:/compressed/text.txt`', catText)}
${row('`fls -r -p LARGE`', flsRun)}
${row('`diskkit ls -R --json LARGE:/`', lsRun)}
${row('`diskkit ls -l LARGE:/group-0/dir-0` (one directory, $I30)', lsOne)}
${row('`diskkit mft index LARGE --format jsonl` (whole tree, MFT scan)', mftIndex)}

- \`cat\` 1 GiB: diskkit ${ratio(icatBig.wall, catBig.wall)} the speed of \`icat\` (target ≥ 1×, aim 2×).
- Fragmented / contiguous (wall from hrtime around each process): ${ratio(catFrag.wall, catContig.wall)} the time (target ≤ 1.2×), ${ratio(catFrag.cpu, catContig.cpu)} the CPU time; the bare-Node floor (the same runs, one pread each, and nothing else): ${ratio(floorFrag.wall, floorContig.wall)} the time, ${ratio(floorFrag.cpu, floorContig.cpu)} the CPU time. diskkit's fragmented file costs ${fmt(catFrag.wall - catContig.wall)} more than its contiguous one; the floor's, ${fmt(floorFrag.wall - floorContig.wall)}.${beatsFloor}
- \`cp -r\` 10,000 files: diskkit ${ratio(recover.wall, cpOut.wall)} the speed of \`tsk_recover -a\` (target ≥ 2×); a bare Node process only creating the same files runs at ${ratio(recover.wall, bareWrite.wall)} its speed, and diskkit takes ${ratio(cpOut.wall, bareWrite.wall)} the floor's time; on two threads (diskkit's count) the floor runs at ${ratio(recover.wall, bareWrite2.wall)} the speed of \`tsk_recover\`, and diskkit takes ${ratio(cpOut.wall, bareWrite2.wall)} its time (CPU ${ratio(cpOut.cpu, bareWrite2.cpu)}).
- LZNT1 through the volume: **${lz.mbps.toFixed(0)} MB/s** of output on one core (target ≥ 300), ${lz.cpuMbps.toFixed(0)} MB/s per CPU-second; a bare byte-copy loop ran at ${lz.control.toFixed(0)} MB/s just before (the machine's ceiling at that moment); \`cat\` of the compressed file ${ratio(icatText.wall, catText.wall)} the speed of \`icat\`.
- \`ls -R --json\` of the large volume: diskkit ${ratio(flsRun.wall, lsRun.wall)} the speed of \`fls -r -p\` (target ≥ 3× on the 1M-file volume). One directory through $I30: ${fmt(lsOne.wall)}; the whole tree through the MFT index: ${fmt(mftIndex.wall)}.
`;
}

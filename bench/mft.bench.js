// MFT indexer benchmark (issue 6): `diskkit mft bench` over every read mode, and
// `diskkit mft index --format jsonl > /dev/null` side by side with `fls -r -p` on
// the same page-cached NTFS image in the same run.
// The image is built once by bench/make-large-ntfs.sh (mkntfs + ntfs-3g, needs root
// and FUSE; about 5 minutes per million files) into DISKKIT_MFT_BENCH_DIR
// (default /tmp/diskkit-bench-mft); DISKKIT_MFT_BENCH_FILES sets the file count
// (default 1,000,000). Not part of CI.
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { alternateCommands, fmt, ratio, threadScalingControl } from './harness.js';

const bin = fileURLToPath(new URL('../bin/diskkit', import.meta.url));

const maker = fileURLToPath(new URL('./make-large-ntfs.sh', import.meta.url));

export default async function ({ log }) {
  const dir = process.env.DISKKIT_MFT_BENCH_DIR ?? '/tmp/diskkit-bench-mft';
  const files = Number(process.env.DISKKIT_MFT_BENCH_FILES ?? 1_000_000);
  const image = join(dir, 'large.ntfs');
  const dump = join(dir, 'large.mft');
  if (!existsSync(image) || !existsSync(dump)) {
    log(`building ${files}-file NTFS image in ${dir} (mkntfs + ntfs-3g)...`);
    execFileSync(maker, [dir, String(files)], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  // Warm the page cache: the image's MFT (through fls) and the dump.
  readFileSync(dump);
  spawnSync('icat', [image, '0'], { stdio: ['ignore', 'ignore', 'ignore'] });

  // What two threads could get at all, just before and after the modes ran: the
  // ceiling for parallel / streaming at that moment.
  const controlBefore = await threadScalingControl();
  log(`control: 2-thread sha256 scaling ${controlBefore.toFixed(2)}x`);
  log('mft bench (every read mode, modes taking turns, median of 5)...');
  const benchRun = spawnSync(bin, ['--json', 'mft', 'bench', image, '--runs', '5', '--modes', 'streaming,prefetch,pipelined,parallel,mmap,auto'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (benchRun.status !== 0) throw new Error(`mft bench failed: ${benchRun.stderr}`);
  const bench = JSON.parse(benchRun.stdout);
  const controlAfter = await threadScalingControl();
  log(`control: 2-thread sha256 scaling ${controlAfter.toFixed(2)}x`);
  const streaming = bench.modes.find((m) => m.mode === 'streaming');
  const parallel = bench.modes.find((m) => m.mode === 'parallel');
  const auto = bench.modes.find((m) => m.mode === 'auto');
  const bestConcrete = bench.modes.filter((m) => m.mode !== 'auto').reduce((a, b) => (b.recordsPerSecond > a.recordsPerSecond ? b : a));

  log('mft index --format jsonl vs fls -r -p (alternating, median of 5)...');
  const [fls, ours, oursParallel, dumpRun] = alternateCommands([
    ['fls', ['-r', '-p', image]],
    [bin, ['mft', 'index', image, '--format', 'jsonl']],
    [bin, ['mft', 'index', image, '--format', 'jsonl', '--mode', 'parallel']],
    [bin, ['mft', 'index', dump, '--format', 'jsonl']],
  ], 5);

  const rows = bench.modes.map((m) =>
    `| ${m.best ? '**' + m.mode + '**' : m.mode} | ${m.workers} | ${Math.round(m.recordsPerSecond).toLocaleString('en-US')} | ${m.mbPerSecond.toFixed(0)} | ${(m.cpuUse * 100).toFixed(0)}% | ${m.cpuSeconds.toFixed(2)} | ${m.peakRssMiB.toFixed(0)} | ${m.seconds.toFixed(3)} |`);
  return `## NTFS MFT index (\`mft bench\`, \`mft index\` vs \`fls -r -p\`)

Image: ${bench.records.toLocaleString('en-US')} MFT records (${bench.rows.toLocaleString('en-US')} paths), made by \`bench/make-large-ntfs.sh\` (mkntfs + ntfs-3g). \`mft bench\` builds the full index with paths, no output formatting; each mode in its own process, the modes taking turns, median of 5 runs. CPU s = user + system seconds of the process (less sensitive to machine load than wall time).

| mode | workers | records/s | MB/s | CPU | CPU s | peak MiB | seconds |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Best: **${bench.best}**. parallel / streaming: **${ratio(parallel.recordsPerSecond, streaming.recordsPerSecond)}** (target ≥ 1.6×). Control in the same run: bare SHA-256 on 2 threads vs 1 (no I/O, no diskkit) scaled ${controlBefore.toFixed(2)}× just before the modes ran and ${controlAfter.toFixed(2)}× just after — what the machine's cores allowed at that moment (2.0 = two free cores).
auto (the default of \`mft index\`) against the best mode: **${ratio(auto.recordsPerSecond, bestConcrete.recordsPerSecond)}** of ${bestConcrete.mode} (target ≥ 0.90×; auto measures how busy the cores are just before it starts, so on a busy machine it keeps to one parse thread).

The commands below ran in turn (fls, then each diskkit variant, 5 rounds after a warm-up), page cache warm; medians.

| command | wall | CPU s (user+sys) | peak MiB |
| --- | --- | --- | --- |
| \`fls -r -p IMG\` | ${fmt(fls.wall)} | ${fls.cpu.toFixed(2)} | ${fls.rss.toFixed(0)} |
| \`diskkit mft index IMG --format jsonl > /dev/null\` | ${fmt(ours.wall)} | ${ours.cpu.toFixed(2)} | ${ours.rss.toFixed(0)} |
| \`diskkit mft index IMG --format jsonl --mode parallel > /dev/null\` | ${fmt(oursParallel.wall)} | ${oursParallel.cpu.toFixed(2)} | ${oursParallel.rss.toFixed(0)} |
| \`diskkit mft index large.mft --format jsonl > /dev/null\` (the dump) | ${fmt(dumpRun.wall)} | ${dumpRun.cpu.toFixed(2)} | ${dumpRun.rss.toFixed(0)} |

diskkit (default mode) is ${ratio(fls.wall, ours.wall)} faster than \`fls -r -p\` on the volume in wall time, ${ratio(fls.cpu, ours.cpu)} in CPU time.
`;
}

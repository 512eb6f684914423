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
import { timeCommand, peakRssMiB, fmt, ratio } from './harness.js';

const bin = fileURLToPath(new URL('../bin/diskkit.js', import.meta.url));
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

  log('mft bench (every read mode)...');
  const benchRun = spawnSync(process.execPath, [bin, '--json', 'mft', 'bench', image, '--runs', '3'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (benchRun.status !== 0) throw new Error(`mft bench failed: ${benchRun.stderr}`);
  const bench = JSON.parse(benchRun.stdout);
  const streaming = bench.modes.find((m) => m.mode === 'streaming');
  const parallel = bench.modes.find((m) => m.mode === 'parallel');

  log('mft index --format jsonl vs fls -r -p...');
  const ours = timeCommand(process.execPath, [bin, 'mft', 'index', image, '--format', 'jsonl'], { runs: 3 });
  const fls = timeCommand('fls', ['-r', '-p', image], { runs: 3 });
  const oursMem = peakRssMiB(process.execPath, [bin, 'mft', 'index', image, '--format', 'jsonl']);
  const flsMem = peakRssMiB('fls', ['-r', '-p', image]);
  const dumpRun = timeCommand(process.execPath, [bin, 'mft', 'index', dump, '--format', 'jsonl'], { runs: 3 });

  const rows = bench.modes.map((m) =>
    `| ${m.best ? '**' + m.mode + '**' : m.mode} | ${m.workers} | ${Math.round(m.recordsPerSecond).toLocaleString('en-US')} | ${m.mbPerSecond.toFixed(0)} | ${(m.cpuUse * 100).toFixed(0)}% | ${m.peakRssMiB.toFixed(0)} | ${m.seconds.toFixed(3)} |`);
  return `## NTFS MFT index (\`mft bench\`, \`mft index\` vs \`fls -r -p\`)

Image: ${bench.records.toLocaleString('en-US')} MFT records (${bench.rows.toLocaleString('en-US')} paths), made by \`bench/make-large-ntfs.sh\` (mkntfs + ntfs-3g). \`mft bench\` builds the full index with paths, no output formatting; best of 3 runs per mode, each mode in its own process.

| mode | workers | records/s | MB/s | CPU | peak MiB | seconds |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Best: **${bench.best}**. parallel / streaming: ${ratio(parallel.recordsPerSecond, streaming.recordsPerSecond)}.

| command | median | peak MiB |
| --- | --- | --- |
| \`fls -r -p IMG\` | ${fmt(fls.median)} | ${flsMem?.toFixed(0) ?? 'n/a'} |
| \`diskkit mft index IMG --format jsonl > /dev/null\` | ${fmt(ours.median)} | ${oursMem?.toFixed(0) ?? 'n/a'} |
| \`diskkit mft index large.mft --format jsonl > /dev/null\` (the dump) | ${fmt(dumpRun.median)} | |

diskkit is ${ratio(fls.median, ours.median)} faster than \`fls -r -p\` on the volume.
`;
}

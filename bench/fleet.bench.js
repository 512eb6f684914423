// Indexing fleets (issue 13), measured side by side in one run:
// 1. `mft index --format parquet` against `--format jsonl` on the large NTFS volume of
//    bench/mft.bench.js (bench/make-large-ntfs.sh; DISKKIT_MFT_BENCH_DIR,
//    DISKKIT_MFT_BENCH_FILES): time, CPU, peak memory and bytes. Target: Parquet
//    within 1.3× of JSONL's time and at most 1/4 of its bytes.
// 2. Files per extension: DuckDB over the Parquet file against grep | sort | uniq -c
//    and jq over the JSONL file (all three must give the same counts).
// 3. Four dumps of DISKKIT_FLEET_BENCH_RECORDS files each (default 250,000; one image
//    made by make-large-ntfs.sh into DISKKIT_FLEET_BENCH_DIR, its $MFT copied four
//    times) indexed with `--jobs 2`, against one of them alone with `--jobs 1`:
//    aggregate records/s (target ≥ 1.8× on two cores) and peak memory per pipeline.
//    The target is a scaling figure (N pipelines at once against one), so its
//    baseline is one dump through the same pipeline the four run: one thread
//    (DISKKIT_THREADS=1, each of the four's share of the two cores). `--jobs 1` as
//    a user runs it gives that one dump both cores (parallel parse workers): shown
//    beside it, the figure for "many sources beat one source's own threads".
// Outputs go to a temporary directory; the input directories are only read.
// Not part of CI; DISKKIT_BENCH_RUNS sets the rounds (default 5).
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { alternateCommands, fmt, ratio, threadScalingControl } from './harness.js';

const bin = fileURLToPath(new URL('../bin/diskkit', import.meta.url));
const maker = fileURLToPath(new URL('./make-large-ntfs.sh', import.meta.url));
const duckdbCount = fileURLToPath(new URL('./duckdb-count-extensions.mjs', import.meta.url));
const runs = Number(process.env.DISKKIT_BENCH_RUNS ?? 5);

function ensureImage(dir, files, log) {
  if (existsSync(join(dir, 'large.ntfs')) && existsSync(join(dir, 'large.mft'))) return;
  log(`building ${files}-file NTFS image in ${dir} (mkntfs + ntfs-3g)...`);
  execFileSync(maker, [dir, String(files)], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function sh(script) {
  return ['sh', ['-c', script]];
}

export default async function ({ log }) {
  const bigDir = process.env.DISKKIT_MFT_BENCH_DIR ?? '/tmp/diskkit-bench-mft';
  ensureImage(bigDir, Number(process.env.DISKKIT_MFT_BENCH_FILES ?? 1_000_000), log);
  const image = join(bigDir, 'large.ntfs');
  const work = mkdtempSync(join(tmpdir(), 'diskkit-fleet-bench-'));
  const jsonl = join(work, 'large.jsonl');
  const parquet = join(work, 'large.parquet');
  spawnSync('icat', [image, '0'], { stdio: ['ignore', 'ignore', 'ignore'] });

  log(`mft index --format jsonl vs --format parquet (alternating, median of ${runs})...`);
  const [j, p] = alternateCommands([
    [bin, ['mft', 'index', image, '--format', 'jsonl', '--out', jsonl]],
    [bin, ['mft', 'index', image, '--format', 'parquet', '--out', parquet]],
  ], runs);
  const jsonlBytes = statSync(jsonl).size;
  const parquetBytes = statSync(parquet).size;
  const rows = Number(execFileSync('sh', ['-c', `wc -l < '${jsonl}'`], { encoding: 'utf8' }).trim());

  log('files per extension: DuckDB over Parquet vs grep and jq over JSONL...');
  // The row's own name is the first `","name":"` of a line (stream names come later); JSON escapes a quote inside a string, so the separators cannot occur there.
  const grep = `grep -v '"isDir":true' '${jsonl}' | awk -F'","name":"' '{ split($2, a, "\\",\\"size\\":"); n = split(a[1], p, "."); print (n > 1 ? p[n] : "") }' | sort | uniq -c | awk '{ print $1, $2 }'`;
  const jq = `jq -r 'select(.isDir | not) | .name | (capture("\\\\.(?<e>[^.]*)$").e // "")' '${jsonl}' | sort | uniq -c | awk '{ print $1, $2 }'`;
  const answers = [
    execFileSync(process.execPath, [duckdbCount, parquet], { encoding: 'utf8', maxBuffer: 1 << 26 }),
    execFileSync('sh', ['-c', grep], { encoding: 'utf8', maxBuffer: 1 << 26 }),
    execFileSync('sh', ['-c', jq], { encoding: 'utf8', maxBuffer: 1 << 26 }),
  ].map((s) => s.trim().split('\n').sort().join('\n'));
  if (answers[1] !== answers[0] || answers[2] !== answers[0]) throw new Error(`extension counts differ:\nduckdb:\n${answers[0]}\ngrep:\n${answers[1]}\njq:\n${answers[2]}`);
  const [duck, grepRun, jqRun] = alternateCommands([[process.execPath, [duckdbCount, parquet]], sh(grep), sh(jq)], runs);

  const fleetDir = process.env.DISKKIT_FLEET_BENCH_DIR ?? '/tmp/diskkit-bench-fleet';
  const perDump = Number(process.env.DISKKIT_FLEET_BENCH_RECORDS ?? 250_000);
  ensureImage(fleetDir, perDump, log);
  const dumps = [1, 2, 3, 4].map((n) => join(fleetDir, `dump-${n}.mft`));
  for (const d of dumps) if (!existsSync(d)) copyFileSync(join(fleetDir, 'large.mft'), d);
  for (const d of dumps) readFileSync(d);
  const control = await threadScalingControl();
  log(`control: 2-thread sha256 scaling ${control.toFixed(2)}x`);
  log(`four dumps --jobs 2 vs one --jobs 1 with one thread and with two (alternating, median of ${runs})...`);
  const fleetRuns = { four: [], one: [], oneBoth: [] };
  const plans = [
    ['four', [...dumps, '--jobs', '2'], {}],
    ['one', [dumps[0], '--jobs', '1'], { DISKKIT_THREADS: '1' }],
    ['oneBoth', [dumps[0], '--jobs', '1'], {}],
  ];
  for (let round = -1; round < runs; round++) {
    for (const [key, args, env] of plans) {
      const r = spawnSync(bin, ['--json', 'mft', 'index', ...args, '--format', 'none'], { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, ...env } });
      if (r.status !== 0) throw new Error(`mft index ${args.join(' ')} failed: ${r.stderr}`);
      if (round >= 0) fleetRuns[key].push(JSON.parse(r.stdout));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a.seconds - b.seconds)[(xs.length - 1) >> 1];
  const four = median(fleetRuns.four);
  const one = median(fleetRuns.one);
  const oneBoth = median(fleetRuns.oneBoth);
  const peak = (xs) => Math.max(...xs.map((s) => s.peakRssMiB));
  // CPU seconds of the pipelines (user + system, from each source's summary): on a shared machine
  // the records per CPU second say whether the pipelines got cheaper even when the wall time is noise.
  const cpuOf = (run) => run.sources.reduce((sum, s) => sum + (s.summary?.cpuSeconds ?? 0), 0);
  const medianCpu = (xs) => [...xs].map(cpuOf).sort((a, b) => a - b)[(xs.length - 1) >> 1];
  const fourCpu = medianCpu(fleetRuns.four);
  const oneCpu = medianCpu(fleetRuns.one);
  const oneBothCpu = medianCpu(fleetRuns.oneBoth);
  // The whole run's CPU (the coordinator from the run's start, every lane from its own start: Node's start and module loading included).
  const medianAllCpu = (xs) => [...xs].map((r) => r.cpuSeconds).sort((a, b) => a - b)[(xs.length - 1) >> 1];
  const row = (label, run, cpu, runsOf) =>
    `| ${label} | ${run.records.toLocaleString('en-US')} | ${fmt(run.seconds)} | ${Math.round(run.recordsPerSecond).toLocaleString('en-US')} | ${cpu.toFixed(2)} | ${medianAllCpu(runsOf).toFixed(2)} | ${Math.round(run.records / cpu).toLocaleString('en-US')} | ${peak(runsOf).toFixed(0)} |`;
  const modeOf = (run) => `${run.sources[0]?.summary?.mode ?? '?'} with ${run.threadsPerSource} thread(s)`;
  rmSync(work, { recursive: true, force: true });

  const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  return `## Indexing fleets (\`mft index --format parquet\`, DuckDB, \`--jobs\`)

Volume: ${rows.toLocaleString('en-US')} rows, made by \`bench/make-large-ntfs.sh\`. Each command in its own process, the commands taking turns, median of ${runs}; CPU s = user + system.

| run | wall | CPU s | peak MiB | output |
| --- | ---: | ---: | ---: | ---: |
| \`mft index IMG --format jsonl --out F\` | ${fmt(j.wall)} | ${j.cpu.toFixed(2)} | ${j.rss.toFixed(0)} | ${mib(jsonlBytes)} |
| \`mft index IMG --format parquet --out F\` | ${fmt(p.wall)} | ${p.cpu.toFixed(2)} | ${p.rss.toFixed(0)} | ${mib(parquetBytes)} |

Parquet / JSONL: time ${ratio(p.wall, j.wall)} (target ≤ 1.3×), bytes ${ratio(parquetBytes, jsonlBytes)} (target ≤ 0.25×).

Files per extension (the three agree):

| query | wall | CPU s |
| --- | ---: | ---: |
| DuckDB over the Parquet file (\`@duckdb/node-api\`, process start included) | ${fmt(duck.wall)} | ${duck.cpu.toFixed(2)} |
| \`grep \\| awk \\| sort \\| uniq -c\` over the JSONL file | ${fmt(grepRun.wall)} | ${grepRun.cpu.toFixed(2)} |
| \`jq \\| sort \\| uniq -c\` over the JSONL file | ${fmt(jqRun.wall)} | ${jqRun.cpu.toFixed(2)} |

Four dumps of ${one.records.toLocaleString('en-US')} records (\`mft index D1 D2 D3 D4 --jobs 2 --format none\`: two lane processes, each indexing two dumps one after the other with ${four.threadsPerSource} thread) against one dump alone (\`--jobs 1\`), alternating, median of ${runs}; 2-thread control ${control.toFixed(2)}× just before. Wall and records/s from the start of the sources' run to its end in the coordinating process (the lanes' start included, the coordinator's own Node start not); pipelines' CPU s are the pipelines' own (user + system, from each source's summary), the whole run's CPU s every process's (the lanes' start included, the coordinator's own Node start not); peak memory is a lane process's (one dump, or two one after the other):

| run | records | wall | records/s | pipelines' CPU s | whole run's CPU s | records per pipeline CPU s | peak MiB per lane |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${row('four dumps, `--jobs 2` (1 thread each)', four, fourCpu, fleetRuns.four)}
${row('one dump, `--jobs 1`, 1 thread (`DISKKIT_THREADS=1`)', one, oneCpu, fleetRuns.one)}
${row('one dump, `--jobs 1`, both cores', oneBoth, oneBothCpu, fleetRuns.oneBoth)}

Aggregate scaling: ${ratio(four.recordsPerSecond, one.recordsPerSecond)} the records/s of one dump through the same one-thread pipeline (target ≥ 1.8× on two cores: two pipelines at once against one); ${ratio(four.recordsPerSecond, oneBoth.recordsPerSecond)} those of one dump given both cores. The whole run's CPU s (\`cpuSeconds\` of the \`--json\` summary) adds to the pipelines' the lanes' start (Node's start and module loading, once per lane) and the coordinator's work. Core time the median four-dump run left unused, 2 × wall − its whole CPU: ${Math.max(0, 2 * four.seconds - four.cpuSeconds).toFixed(2)} s of ${(2 * four.seconds).toFixed(2)} (the second lane forked a moment after the first, a lane finishing before the other; on a busy machine, other work). The two lanes take both cores, so each runs V8 single-threaded (\`--single-threaded\`: its compiler and garbage collector on the lane's own thread; the one-dump lane, with a core to spare, keeps them on helper threads there), and each lane indexes its second dump in the first one's memory (record table, name lists: no fresh pages to fault in), which is why the four pipelines' CPU is less than four times the one's. The rest of the gap to 2× is CPU the four-dump run pays and the one-dump run hides: a second lane's start, and the I/O pool's reads, which run on the idle second core when one dump is indexed alone. Modes: each of the four ${modeOf(four)}, the one-thread dump ${modeOf(one)}, the two-core dump ${modeOf(oneBoth)}.
`;
}

/**
 * `diskkit mft index` and `diskkit mft bench`: the NTFS MFT indexer (issue 6).
 * Parses and validates options, calls the engine (loaded lazily), and routes rows
 * to stdout or --out and the summary to --json / stderr.
 */
import type { Command } from 'commander';
import { count, globalOptions, printJson, runAction, usageError, warn } from './context.js';
import { addIoOptions, formatScanStats, parseByteSize, printScanStats } from './io-options.js';
import { READ_MODES } from '../io/read-mode-names.js';
import type { WorkerPool } from '../io/parallel.js';
import type { BenchFlags, IndexFlags } from './mft-flags.js';
import { renderMftBenchTable } from './mft-bench-table.js';
import { statSync } from 'node:fs';
import { threadBudget } from '../io/thread-budget.js';
import { secondCoreFree } from '../io/auto.js';

const FORMATS = ['jsonl', 'csv', 'bodyfile', 'parquet', 'none'];
const MODES: readonly string[] = READ_MODES;

export type { BenchFlags, IndexFlags } from './mft-flags.js';

export function define(program: Command): void {
  const mft = program.command('mft').description('NTFS Master File Table tools: a full file index from $MFT');
  const index = mft
    .command('index')
    .description('list every file of an $MFT dump or NTFS volume with its full path, one row per path')
    .argument('<source...>', 'raw $MFT dumps, NTFS volume images or block devices')
    .option('--format <format>', 'jsonl, csv, bodyfile (TSK mactime input) or parquet', 'jsonl')
    .option('--out <file>', 'write rows to FILE instead of stdout')
    .option('--out-dir <dir>', 'one output file per source in DIR, named from the source')
    .option('--jobs <n>', 'sources indexed at once (default: the core count)')
    .option('-o, --offset <sectors>', "the volume starts this many 512-byte sectors into the image (TSK's -o; N@SIZE for other sector sizes)")
    .option('--offset-bytes <bytes>', 'the volume starts this many bytes into the image')
    .option('-z, --zone <tz>', "JSONL/CSV times in this time zone (e.g. Europe/Berlin, EST5EDT) instead of UTC, as TSK's -z; bodyfile times are Unix seconds")
    .option('--streams', 'a row per named $DATA stream (file:stream) too')
    .option('--deleted', 'include records whose in-use flag is clear')
    .option('--strict', 'treat bad records, loops and stray extensions as errors')
    .option('--skip-unused', "read only records marked in use in $MFT's $BITMAP (volumes)")
    .option('-v, --verbose', 'say which read mode ran, and why when auto picked it')
    .addHelpText('after', '\nThe read mode defaults to auto. With --json, the summary is printed on stdout and rows go only to --out.');
  addIoOptions(index, { defaultMode: 'auto' }).action((sources: string[], flags: IndexFlags, command: Command) =>
    sources.length > 1 || flags.outDir !== undefined || flags.jobs !== undefined
      ? runAction(undefined, async () => (await import('./mft-fleet-action.js')).runFleet(sources, flags, command, FORMATS))
      : runAction(sources[0], () => runIndex(sources[0]!, flags, command)));

  mft
    .command('bench')
    .description('build the full index in each read mode in turn and compare records/s, MB/s, CPU and memory')
    .argument('<source...>', 'raw $MFT dumps, NTFS volume images or block devices')
    .option('--modes <list>', 'all (the default), or a comma-separated list of read modes')
    .option('--mode <list>', 'the same as --modes (bench spells it --mode)')
    .option('--stats', "each mode's I/O statistics (median run) on stderr; in --json as \"stats\"")
    .option('--chunk-size <bytes>', 'bytes per read, e.g. 4M', parseByteSize)
    .option('--workers <n>', 'worker threads for parallel')
    .option('--skip-unused', "read only records marked in use in $MFT's $BITMAP")
    .option('--runs <n>', 'runs per mode, modes taking turns (the median is kept)', '1')
    .option('--jobs <n>', 'with several sources: sources indexed at once for the aggregate (default: the core count)')
    .action((sources: string[], flags: BenchFlags, command: Command) =>
      runAction(sources.length === 1 ? sources[0] : undefined, () => runBench(sources, flags, command)));
}

async function runIndex(source: string, flags: IndexFlags, command: Command): Promise<number> {
  if (!FORMATS.includes(flags.format)) throw usageError(`--format takes jsonl, csv, bodyfile or parquet, not '${flags.format}'`);
  if (flags.format === 'parquet' && flags.out === undefined && !globalOptions(command).json && process.stdout.isTTY) {
    throw usageError('--format parquet is binary: give --out FILE or redirect stdout');
  }
  if (flags.zone !== undefined) (await import('../engine/ntfs/index.js')).checkTimeZone(flags.zone);
  // Parse workers boot (tens of milliseconds) while the engine loads and the MFT is located:
  // for --mode parallel, and for auto when it will likely pick parallel (a large source, two cores).
  const { startParseWorkers, AUTO_PARALLEL_MFT_BYTES } = await import('../engine/ntfs/index.js');
  const auto = flags.mode === undefined || flags.mode === 'auto';
  const pool = flags.mode === 'parallel' || (auto && mayIndexInParallel(source, AUTO_PARALLEL_MFT_BYTES)) ? startParseWorkers(flags.workers) : undefined;
  try {
    return await indexWith(source, flags, command, pool);
  } finally {
    await pool?.close();
  }
}

/** Whether `auto` may pick parallel: two cores and a source at least as large as the smallest MFT it parses in workers. */
function mayIndexInParallel(source: string, minBytes: number): boolean {
  if (threadBudget() < 2 || !secondCoreFree(threadBudget())) return false;
  try {
    return statSync(source).size >= minBytes;
  } catch {
    return false;
  }
}

async function indexWith(source: string, flags: IndexFlags, command: Command, pool: WorkerPool | undefined): Promise<number> {
  const g = globalOptions(command);
  const [{ runMftIndex }, { withInterrupt }, { startProgress }, { stdoutRowStream }] = await Promise.all([import('../engine/ntfs/index.js'), import('./io-options.js'), import('./progress.js'), import('./stdout-writer.js')]);
  // A bar only where it helps: indexing a large MFT takes seconds.
  const bar = await startProgress(g, 'indexing $MFT', 1);
  const summary = await withInterrupt((signal) => runMftIndex(source, {
    format: flags.format as 'jsonl' | 'csv' | 'bodyfile' | 'parquet' | 'none',
    out: flags.out,
    stdout: g.json ? undefined : stdoutRowStream(),
    streams: Boolean(flags.streams),
    deleted: Boolean(flags.deleted),
    strict: Boolean(flags.strict),
    skipUnused: Boolean(flags.skipUnused),
    mode: flags.mode ?? 'auto',
    chunkSize: flags.chunkSize,
    depth: flags.depth,
    workers: flags.workers,
    partition: g.partition,
    offset: volumeOffset(flags, g.partition),
    timeZone: flags.zone,
    stats: Boolean(flags.stats),
    signal,
    pool,
    onProgress: (done, total) => bar.update(done, total),
  })).finally(() => bar.stop());
  if (flags.stats && summary.scan && !g.json) printScanStats(summary.scan);
  if (flags.verbose && !g.json) process.stderr.write(`diskkit: ${source}: mode ${summary.mode}${summary.autoReason ? ` (auto: ${summary.autoReason})` : ''}\n`);
  if (g.json) printJson(summary);
  else {
    if (summary.warningCount > 0) warn(g, source, `${count(summary.warningCount, 'problem')}: ${count(summary.badRecords, 'bad record')}; run with --json for details`);
    if (!g.quiet && process.stderr.isTTY) {
      process.stderr.write(`${summary.rows} rows from ${summary.records} records (${summary.inUse} in use, ${summary.files} files, ${summary.dirs} dirs, ${summary.orphans} orphans) in ${summary.seconds.toFixed(3)} s, ${Math.round(summary.recordsPerSecond)} records/s, mode ${summary.mode}\n`);
    }
  }
  return 0;
}

/** -o SECTORS[@SIZE] or --offset-bytes BYTES as a byte offset (undefined when neither). */
export function volumeOffset(flags: { offset?: string; offsetBytes?: string }, partition: number | undefined): number | undefined {
  if (flags.offset === undefined && flags.offsetBytes === undefined) return undefined;
  if (flags.offset !== undefined && flags.offsetBytes !== undefined) throw usageError('give -o SECTORS or --offset-bytes BYTES, not both');
  if (partition !== undefined) throw usageError('--partition and an offset both say where the volume is: give one');
  if (flags.offsetBytes !== undefined) {
    if (!/^\d+$/.test(flags.offsetBytes)) throw usageError(`--offset-bytes takes a number of bytes, not '${flags.offsetBytes}'`);
    return Number(flags.offsetBytes);
  }
  const m = /^(\d+)(?:@(512|1024|2048|4096))?$/.exec(flags.offset!);
  if (!m) throw usageError(`-o takes a sector offset like 2048 (or 2048@4096 for 4096-byte sectors), not '${flags.offset}'`);
  return Number(m[1]) * Number(m[2] ?? 512);
}

async function runBench(sources: string[], flags: BenchFlags, command: Command): Promise<number> {
  const source = sources[0]!;
  const g = globalOptions(command);
  if (flags.modes !== undefined && flags.mode !== undefined && flags.modes !== flags.mode) throw usageError('give the modes once: --modes or --mode');
  const requested = flags.modes ?? flags.mode ?? 'all';
  const modes = requested === 'all' ? MODES.filter((m) => m !== 'auto') : requested.split(',').map((m) => m.trim());
  for (const m of modes) if (!MODES.includes(m)) throw usageError(`--modes: unknown read mode '${m}' (known: ${MODES.join(', ')})`);
  const runs = Number(flags.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw usageError(`--runs takes a number from 1 to 20`);
  if (flags.workers !== undefined && !/^[1-9]\d{0,2}$/.test(flags.workers)) throw usageError(`--workers takes a number from 1 to 999, not '${flags.workers}'`);
  if (sources.length > 1) return (await import('./mft-fleet-action.js')).runFleetBench(sources, flags, command, { modes, runs });
  const [{ runMftBench }, { startProgress }, { withInterrupt }] = await Promise.all([import('../engine/bench/mft-bench.js'), import('./progress.js'), import('./io-options.js')]);
  // The live view: a bar over the runs on a terminal (stderr), as bench shows its progress.
  const bar = await startProgress(g, 'mft bench', modes.length * runs, 'items');
  const result = await withInterrupt((signal) =>
    runMftBench(source, {
      modes,
      runs,
      chunkSize: flags.chunkSize === undefined ? undefined : String(flags.chunkSize),
      workers: flags.workers,
      skipUnused: Boolean(flags.skipUnused),
      partition: g.partition,
      stats: Boolean(flags.stats),
      signal,
      onRun: (done) => bar.update(done),
    }),
  ).finally(() => bar.stop());
  if (g.json) printJson(result);
  else {
    process.stdout.write(await renderMftBenchTable(result));
    if (flags.stats) for (const row of result.modes) if (row.stats) for (const line of formatScanStats(row.stats)) process.stderr.write(`diskkit: stats: ${row.mode}: ${line}\n`);
  }
  return 0;
}

/**
 * `diskkit mft index` and `diskkit mft bench`: the NTFS MFT indexer (issue 6).
 * Parses and validates options, calls the engine (loaded lazily), and routes rows
 * to stdout or --out and the summary to --json / stderr.
 */
import type { Command } from 'commander';
import { globalOptions, printJson, runAction, usageError, warn } from './context.js';

const FORMATS = ['jsonl', 'csv', 'bodyfile', 'none'];
const MODES = ['streaming', 'prefetch', 'pipelined', 'parallel', 'mmap', 'auto'];

interface IndexFlags {
  format: string;
  out?: string;
  streams?: boolean;
  deleted?: boolean;
  strict?: boolean;
  skipUnused?: boolean;
  mode: string;
  chunkSize?: string;
  workers?: string;
}

function parseSize(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)([kKmMgG]?)(i?[bB])?$/.exec(value.trim());
  if (!m) throw usageError(`${what} takes a size like 4M or 65536, not '${value}'`);
  const scale = { '': 1, k: 1024, m: 1 << 20, g: 1 << 30 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * scale;
  if (n < 512 || n > 1 << 30) throw usageError(`${what} must be between 512 bytes and 1 GiB`);
  return n;
}

function parseWorkers(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw usageError(`--workers takes a number from 1 to 64, not '${value}'`);
  return n;
}

export function define(program: Command): void {
  const mft = program.command('mft').description('NTFS Master File Table tools: a full file index from $MFT');
  mft
    .command('index')
    .description('list every file of an $MFT dump or NTFS volume with its full path, one row per path')
    .argument('<source>', 'raw $MFT dump, NTFS volume image or block device')
    .option('--format <format>', 'jsonl, csv or bodyfile (TSK mactime input)', 'jsonl')
    .option('-o, --out <file>', 'write rows to FILE instead of stdout')
    .option('--streams', 'a row per named $DATA stream (file:stream) too')
    .option('--deleted', 'include records whose in-use flag is clear')
    .option('--strict', 'treat bad records, loops and stray extensions as errors')
    .option('--skip-unused', "read only records marked in use in $MFT's $BITMAP (volumes)")
    .option('--mode <mode>', `read mode: ${MODES.join(', ')}`, 'auto')
    .option('--chunk-size <bytes>', 'bytes per read (rounded to whole records), e.g. 4M')
    .option('--workers <n>', 'worker threads for --mode parallel')
    .addHelpText('after', '\nWith --json, the summary is printed on stdout and rows go only to --out.')
    .action((source: string, flags: IndexFlags, command: Command) => runAction(source, () => runIndex(source, flags, command)));

  mft
    .command('bench')
    .description('build the full index in each read mode in turn and compare records/s, MB/s, CPU and memory')
    .argument('<source>', 'raw $MFT dump, NTFS volume image or block device')
    .option('--modes <list>', 'all, or a comma-separated list of read modes', 'all')
    .option('--chunk-size <bytes>', 'bytes per read, e.g. 4M')
    .option('--workers <n>', 'worker threads for parallel')
    .option('--skip-unused', "read only records marked in use in $MFT's $BITMAP")
    .option('--runs <n>', 'runs per mode, modes taking turns (the median is kept)', '1')
    .action((source: string, flags: { modes: string; chunkSize?: string; workers?: string; skipUnused?: boolean; runs: string }, command: Command) =>
      runAction(source, () => runBench(source, flags, command)));
}

async function runIndex(source: string, flags: IndexFlags, command: Command): Promise<number> {
  const g = globalOptions(command);
  if (!FORMATS.includes(flags.format)) throw usageError(`--format takes jsonl, csv or bodyfile, not '${flags.format}'`);
  if (!MODES.includes(flags.mode)) throw usageError(`--mode takes one of ${MODES.join(', ')}, not '${flags.mode}'`);
  const chunkSize = parseSize(flags.chunkSize, '--chunk-size');
  const workers = parseWorkers(flags.workers);
  const { runMftIndex } = await import('./mft-run.js');
  const summary = await runMftIndex(source, {
    format: flags.format as 'jsonl' | 'csv' | 'bodyfile' | 'none',
    out: flags.out,
    toStdout: !g.json,
    streams: Boolean(flags.streams),
    deleted: Boolean(flags.deleted),
    strict: Boolean(flags.strict),
    skipUnused: Boolean(flags.skipUnused),
    mode: flags.mode,
    chunkSize,
    workers,
    partition: g.partition,
  });
  if (g.json) printJson(summary);
  else {
    if (summary.warningCount > 0) warn(g, source, `${summary.warningCount} problem(s): ${summary.badRecords} bad record(s); run with --json for details`);
    if (!g.quiet && process.stderr.isTTY) {
      process.stderr.write(`${summary.rows} rows from ${summary.records} records (${summary.inUse} in use, ${summary.files} files, ${summary.dirs} dirs, ${summary.orphans} orphans) in ${summary.seconds.toFixed(3)} s, ${Math.round(summary.recordsPerSecond)} records/s, mode ${summary.mode}\n`);
    }
  }
  return 0;
}

async function runBench(source: string, flags: { modes: string; chunkSize?: string; workers?: string; skipUnused?: boolean; runs: string }, command: Command): Promise<number> {
  const g = globalOptions(command);
  const modes = flags.modes === 'all' ? MODES.filter((m) => m !== 'auto') : flags.modes.split(',').map((m) => m.trim());
  for (const m of modes) if (!MODES.includes(m)) throw usageError(`--modes: unknown read mode '${m}' (known: ${MODES.join(', ')})`);
  const runs = Number(flags.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw usageError(`--runs takes a number from 1 to 20`);
  parseSize(flags.chunkSize, '--chunk-size');
  parseWorkers(flags.workers);
  const { runMftBench, renderBenchTable } = await import('./mft-run.js');
  const result = await runMftBench(source, { modes, runs, chunkSize: flags.chunkSize, workers: flags.workers, skipUnused: Boolean(flags.skipUnused), partition: g.partition });
  if (g.json) printJson(result);
  else process.stdout.write(renderBenchTable(result));
  return 0;
}

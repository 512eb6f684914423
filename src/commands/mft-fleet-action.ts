/**
 * The many-source forms of `mft index` and `mft bench` (issue 13): option checks and
 * printing; the work is in engine/fleet (fleet-index.ts) and engine/bench
 * (fleet-bench.ts). Loaded only when several sources, --out-dir or --jobs are given.
 */
import type { Command } from 'commander';
import { count, errorDetails, escapeName, globalOptions, printJson, usageError, warn } from './context.js';
import type { FleetSourceSummary, SourceError } from '../engine/fleet/index.js';
import { threadBudget } from '../io/thread-budget.js';
import type { BenchFlags, IndexFlags } from './mft-flags.js';

/** Several sources, --out-dir or --jobs: one pipeline per source (engine/fleet/fleet-index.ts). */
export async function runFleet(sources: string[], flags: IndexFlags, command: Command, FORMATS: readonly string[]): Promise<number> {
  const g = globalOptions(command);
  if (!FORMATS.includes(flags.format)) throw usageError(`--format takes jsonl, csv, bodyfile or parquet, not '${flags.format}'`);
  if (flags.jobs !== undefined && !/^[1-9]\d{0,2}$/.test(flags.jobs)) throw usageError(`--jobs takes a number from 1 to 999, not '${flags.jobs}'`);
  if (flags.out !== undefined && flags.outDir !== undefined) throw usageError('give --out FILE (all rows in one file) or --out-dir DIR (a file per source), not both');
  if (flags.format === 'parquet' && flags.outDir === undefined && !(sources.length === 1 && flags.out !== undefined)) {
    throw usageError('--format parquet with several sources needs --out-dir DIR (a file per source, each with a source column: query DIR/*.parquet)');
  }
  const [{ runFleetIndex }, { withInterrupt }] = await Promise.all([import('../engine/fleet/index.js'), import('./io-options.js')]);
  const summary = await withInterrupt((signal) => runFleetIndex({
    sources,
    format: flags.format as 'jsonl' | 'csv' | 'bodyfile' | 'parquet' | 'none',
    outDir: flags.outDir,
    out: flags.out,
    toStdout: !g.json,
    jobs: flags.jobs === undefined ? threadBudget() : Number(flags.jobs),
    pipeline: {
      streams: Boolean(flags.streams),
      deleted: Boolean(flags.deleted),
      strict: Boolean(flags.strict),
      skipUnused: Boolean(flags.skipUnused),
      stats: Boolean(flags.stats),
      mode: flags.mode ?? 'auto',
      chunkSize: flags.chunkSize,
      depth: flags.depth,
    },
    partition: g.partition,
    workers: flags.workers,
    signal,
  }));
  const sourcesOut = summary.sources.map(worded);
  if (g.json) printJson({ ...summary, sources: sourcesOut });
  else {
    for (const s of sourcesOut) {
      if (!s.ok) process.stderr.write(`diskkit: ${escapeName(s.source)}: ${s.error!.message}\n`);
      else if (s.summary!.warningCount > 0) warn(g, s.source, `${count(s.summary!.warningCount, 'problem')}: ${count(s.summary!.badRecords, 'bad record')}; run with --json for details`);
      if (s.renamed) warn(g, s.source, `written to ${s.output} (another source has the same name)`);
    }
    if (!g.quiet && process.stderr.isTTY) {
      process.stderr.write(`${sources.length - summary.failed} of ${sources.length} sources indexed: ${summary.rows} rows from ${summary.records} records in ${summary.seconds.toFixed(3)} s, ${Math.round(summary.recordsPerSecond)} records/s, ${summary.jobs} at once\n`);
    }
  }
  return summary.failed > 0 ? 1 : 0;
}

/**
 * A failed source's error worded as the line of `mft index SRC` reads after `SRC: `:
 * the message escaped, then the "(where)" part from the context; a path other than
 * the source's (--out's, say) keeps its name in front.
 */
function worded(s: FleetSourceSummary): Omit<FleetSourceSummary, 'error'> & { error?: { code: string; message: string } } {
  if (!s.error) return s as Omit<FleetSourceSummary, 'error'>;
  const error: SourceError = s.error;
  const where = typeof error.context.image === 'string' ? error.context.image : s.source;
  const prefix = where === s.source ? '' : `${escapeName(where)}: `;
  return { ...s, error: { code: error.code, message: prefix + escapeName(error.message) + errorDetails(error.context, where) } };
}

/** `mft bench SRC SRC...`: each source's table, then all sources at once against one alone (mft-fleet-bench.ts). */
export async function runFleetBench(sources: string[], flags: BenchFlags, command: Command, parsed: { modes: string[]; runs: number }): Promise<number> {
  const g = globalOptions(command);
  if (flags.jobs !== undefined && !/^[1-9]\d{0,2}$/.test(flags.jobs)) throw usageError(`--jobs takes a number from 1 to 999, not '${flags.jobs}'`);
  const [{ runFleetBench }, { renderFleetBench }] = await Promise.all([import('../engine/bench/fleet-bench.js'), import('./mft-fleet-bench.js')]);
  const result = await runFleetBench(sources, {
    ...parsed,
    jobs: flags.jobs === undefined ? threadBudget() : Number(flags.jobs),
    chunkSize: flags.chunkSize === undefined ? undefined : String(flags.chunkSize),
    workers: flags.workers,
    skipUnused: Boolean(flags.skipUnused),
    partition: g.partition,
  });
  if (g.json) printJson(result);
  else process.stdout.write(await renderFleetBench(result));
  return 0;
}

/**
 * `diskkit mft bench SRC...` (issue 13): the per-mode table of each source, then the
 * many-source figures — every source indexed at once (`mft index SRC... --format
 * none --jobs N`, one pipeline process per lane) against the first source alone the
 * same way — so the aggregate records/s and its scaling over one source show where a
 * shared bottleneck (cores, disk, memory bandwidth) stops the gain. Both runs pay the
 * same lane start-up.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DiskkitError, ErrorCode } from '../errors.js';
import { count } from '../plural.js';
import { runMftBench, type BenchResult } from './mft-bench.js';
import type { FleetSummary } from '../fleet/fleet-index.js';

export interface FleetRun {
  sources: number;
  jobs: number;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  /** The whole run's CPU seconds: the coordinator's and every lane's, the lanes' start included (FleetSummary.cpuSeconds). */
  cpuSeconds: number;
  /** The largest peak memory of a pipeline process (one runs its sources one after another). */
  peakRssMiB: number;
  threadsPerSource: number;
}

export interface FleetBenchResult {
  perSource: BenchResult[];
  /** All sources at once. */
  aggregate: FleetRun;
  /** The first source alone, the same way. */
  alone: FleetRun;
  /** aggregate.recordsPerSecond / alone.recordsPerSecond: N for perfect scaling up to the cores. */
  scaling: number;
}

const BIN = fileURLToPath(new URL('../../../bin/diskkit.js', import.meta.url));

function fleetRun(sources: string[], jobs: number, partition: number | undefined, extra: string[]): FleetRun {
  const args = [BIN, '--json'];
  if (partition !== undefined) args.push('--partition', String(partition));
  args.push('mft', 'index', ...sources, '--format', 'none', '--jobs', String(jobs), ...extra);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const summary = r.stdout ? (JSON.parse(r.stdout) as FleetSummary) : null;
  if (r.status !== 0 || !summary) {
    const failed = summary?.sources.find((s) => !s.ok);
    throw new DiskkitError(ErrorCode.IO, `indexing ${count(sources.length, 'source')} at once failed: ${failed?.error?.message ?? r.stderr.trim()}`, { context: { image: failed?.source ?? sources[0] } });
  }
  return {
    sources: sources.length,
    jobs,
    records: summary.records,
    seconds: summary.seconds,
    recordsPerSecond: summary.recordsPerSecond,
    cpuSeconds: summary.cpuSeconds,
    peakRssMiB: summary.peakRssMiB,
    threadsPerSource: summary.threadsPerSource,
  };
}

export async function runFleetBench(
  sources: string[],
  options: { modes: string[]; runs: number; jobs: number; chunkSize?: string | undefined; workers?: string | undefined; skipUnused: boolean; partition: number | undefined },
): Promise<FleetBenchResult> {
  const perSource: BenchResult[] = [];
  for (const source of sources) perSource.push(await runMftBench(source, options));
  const extra = options.skipUnused ? ['--skip-unused'] : [];
  // Alternated, median of the runs each: a busy machine slows both alike.
  const together: FleetRun[] = [];
  const alone: FleetRun[] = [];
  for (let i = 0; i < options.runs; i++) {
    together.push(fleetRun(sources, options.jobs, options.partition, extra));
    alone.push(fleetRun([sources[0]!], 1, options.partition, extra));
  }
  const median = (runs: FleetRun[]): FleetRun => [...runs].sort((a, b) => a.seconds - b.seconds)[(runs.length - 1) >> 1]!;
  const a = median(together);
  const b = median(alone);
  return { perSource, aggregate: a, alone: b, scaling: a.recordsPerSecond / b.recordsPerSecond };
}

/**
 * `diskkit mft bench SRC...` (issue 13): prints what engine/bench/fleet-bench.ts
 * measured — each source's per-mode table, then all sources at once against the
 * first one alone.
 */
import { count } from './context.js';
import type { FleetBenchResult } from '../engine/bench/fleet-bench.js';
import { renderMftBenchTable } from './mft-bench-table.js';

export async function renderFleetBench(result: FleetBenchResult): Promise<string> {
  const rate = (n: number): string => Math.round(n).toLocaleString('en-US');
  const { aggregate: a, alone: b } = result;
  return [
    ...(await Promise.all(result.perSource.map(renderMftBenchTable))),
    `all ${a.sources} sources at once (--jobs ${a.jobs}, ${count(a.threadsPerSource, 'thread')} each): ${rate(a.records)} records in ${a.seconds.toFixed(3)} s, ${rate(a.recordsPerSecond)} records/s, peak ${a.peakRssMiB.toFixed(0)} MiB per pipeline process`,
    `the first source alone: ${rate(b.records)} records in ${b.seconds.toFixed(3)} s, ${rate(b.recordsPerSecond)} records/s`,
    `scaling: ${result.scaling.toFixed(2)}× one source's records/s with ${a.sources} sources`,
    '',
  ].join('\n');
}

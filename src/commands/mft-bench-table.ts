/** The `mft bench` table for people (one source; the many-source form prints one per source). */
import type { BenchResult } from '../engine/bench/mft-bench.js';

/** One source's `mft bench` table (also printed per source by the many-source form). */
export async function renderMftBenchTable(result: BenchResult): Promise<string> {
  const { formatTable } = await import('./table.js');
  const header = ['  mode', 'workers', 'records/s', 'MB/s', 'CPU', 'CPU s', 'peak MiB', 'seconds'];
  const rows = result.modes.map((r) => [
    (r.best ? '* ' : '  ') + r.mode,
    String(r.workers),
    Math.round(r.recordsPerSecond).toLocaleString('en-US'),
    r.mbPerSecond.toFixed(0),
    `${(r.cpuUse * 100).toFixed(0)}%`,
    r.cpuSeconds.toFixed(2),
    r.peakRssMiB.toFixed(0),
    r.seconds.toFixed(3),
  ]);
  const lines = [`mft bench ${result.source}: ${result.records} records, ${result.rows} paths`, '', ...formatTable(header, rows, (i) => i > 0), '', `* best: ${result.best}`];
  return lines.join('\n') + '\n';
}

/** The plain-text bench report (stdout when it is not a terminal): one table per read workload. */
import type { BenchReport, ModeRow, ReadWorkloadResult, Skipped } from '../engine/bench/run-bench.js';
import { escapeName } from './context.js';
import { formatTable } from './table.js';

function size(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20}M`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10}K`;
  return String(n);
}

export function modeRowCells(row: ModeRow): string[] {
  return [
    (row.best ? '* ' : '  ') + row.mode + (row.mode === 'auto' ? `→${row.ranAs}` : ''),
    size(row.chunkSize),
    String(row.depth),
    row.workers ? String(row.workers) : '-',
    row.rate.median.toFixed(1),
    `${row.rate.spreadPct}%`,
    String(row.latencyMs.p50),
    String(row.latencyMs.p95),
    String(row.latencyMs.p99),
    String(row.cpuUserMs),
    String(row.cpuSysMs),
    row.checksum ?? '-',
  ];
}

export function modeTableHeader(unit: string): string[] {
  return ['  mode', 'chunk', 'depth', 'workers', `${unit} median`, 'spread', 'p50 ms', 'p95 ms', 'p99 ms', 'user ms', 'sys ms', 'crc32'];
}

function readSection(title: string, w: ReadWorkloadResult | Skipped): string[] {
  if (w.status === 'skipped') return [`${title}: skipped (${w.reason})`];
  const out = [`${title}: ${escapeName(w.what)}`];
  for (const l of formatTable(modeTableHeader(w.unit), w.byMode.map(modeRowCells), (i) => i >= 1 && i <= 10)) out.push('  ' + l);
  for (const m of w.skippedModes) out.push(`  ${m.mode}: skipped (${m.reason})`);
  for (const row of w.byMode) if (row.autoReason) out.push(`  auto picked ${row.ranAs}: ${row.autoReason}`);
  if (w.byMode.length > 1) out.push(`  best: ${w.best}; checksums ${w.checksumsAgree ? 'agree' : 'DIFFER'} across modes`);
  return out;
}

export function formatBenchReport(report: BenchReport): string {
  const c = report.conditions;
  const w = report.workloads;
  const lines = [
    `bench ${escapeName(report.image)}: ${report.note}`,
    `conditions: ${c.cache} cache (${c.cacheAction}); modes ${c.modes.join(', ')}; chunk ${c.chunkSize}; depth ${c.depth}; workers ${c.workers}; per-chunk work ${c.hash}`,
    `machine: ${c.cpu}, ${c.cores} cores, Node ${c.node}, ${c.platform}, UV_THREADPOOL_SIZE ${c.uvThreadpoolSize}; ${c.runs === 1 ? '1 run' : `${c.runs} runs`} each (median, spread = (max-min)/median)`,
    '',
    ...readSection('sequential read', w.sequentialRead),
    ...readSection('random 4 KiB reads', w.randomRead),
    w.metadataWalk.status === 'ran'
      ? `metadata walk: ${w.metadataWalk.entries} entries, ${Math.round(w.metadataWalk.entriesPerSec.median)} entries/s (spread ${w.metadataWalk.entriesPerSec.spreadPct}%)`
      : `metadata walk: skipped (${w.metadataWalk.reason})`,
    w.fatCache.status === 'ran'
      ? `cache: ${Object.entries(w.fatCache.caches).map(([k, v]) => `${k} ${v.hitRatePct}% hits (${v.hits}/${v.hits + v.misses})`).join(', ')}`
      : `cache: skipped (${w.fatCache.reason})`,
    w.allocation.status === 'ran'
      ? `allocation: ${w.allocation.usPerAllocation} µs per cluster (${w.allocation.allocations} single-cluster allocations at ${w.allocation.fillLevelPct}% full, in memory; free-cluster bitmap built in ${w.allocation.bitmapBuildMs} ms)`
      : `allocation: skipped (${w.allocation.reason})`,
    `process: peak RSS ${report.process.peakRssMiB} MiB, CPU user ${report.process.cpuUserMs} ms, sys ${report.process.cpuSysMs} ms`,
  ];
  return lines.join('\n') + '\n';
}

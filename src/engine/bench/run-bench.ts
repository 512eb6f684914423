/**
 * `diskkit bench`: runs the workloads the target's format allows, per read mode,
 * `runs` times each, and returns one report (the command only formats it). Events
 * let a live view follow progress.
 */
import { resourceUsage } from 'node:process';
import { DiskkitError, ErrorCode } from '../errors.js';
import type { ReadMode } from '../../io/scan.js';
import type { ScanStats } from '../../io/scan-stats.js';
import type { DigestWork } from '../../io/workers/chunk-digest.js';
import { machineConditions, dropCache, type MachineConditions } from './conditions.js';
import { summarize, type RunSummary } from './summary.js';
import { allocationWorkload, cacheStatsOf, randomReadPlan, readExtents, walkMetadata, type AllocationResult, type ReadRun } from './workloads.js';
import type { BenchTarget } from './target.js';
import type { Extent } from '../volume.js';
import type { BlockSource } from '../../io/block-source.js';

export interface BenchOptions {
  modes: ReadMode[];
  runs: number;
  /** Soft time budget per workload and mode; sizes the random-read runs. */
  seconds: number;
  chunkSize?: number;
  depth?: number;
  workers?: number;
  /** Per-chunk work of the sequential read: crc32 (default), sha256 (CPU-heavy), none (raw read limit). */
  hash: DigestWork;
  dropCache: boolean;
  signal?: AbortSignal;
  onEvent?: (event: BenchEvent) => void;
}

export type BenchEvent =
  | { type: 'start'; workloads: string[]; modes: ReadMode[]; conditions: BenchConditions }
  | { type: 'progress'; workload: string; mode: ReadMode; run: number; runs: number; fraction: number }
  | { type: 'row'; workload: string; row: ModeRow }
  | { type: 'workload'; name: string; result: unknown };

export interface BenchConditions extends MachineConditions {
  cache: 'warm' | 'cold';
  cacheAction: string;
  modes: ReadMode[];
  chunkSize: number | 'per-mode default';
  depth: number | 'per-mode default';
  workers: number | 'available cores';
  hash: DigestWork;
  runs: number;
  seconds: number;
}

export interface ModeRow {
  mode: ReadMode;
  /** The mode that ran (auto resolved) and why auto chose it. */
  ranAs: string;
  autoReason: string | null;
  chunkSize: number;
  depth: number;
  workers: number;
  /** MB/s (sequential) or reads/s (random), per run and summarized. */
  rate: RunSummary;
  seconds: RunSummary;
  latencyMs: { p50: number; p95: number; p99: number };
  checksum: string | null;
  sha256OfChunks: string | null;
  cpuUserMs: number;
  cpuSysMs: number;
  /** I/O statistics of the median run. */
  stats: ScanStats;
  best: boolean;
}

export interface ReadWorkloadResult {
  status: 'ran';
  unit: 'MB/s' | 'reads/s';
  what: string;
  bytes: number;
  byMode: ModeRow[];
  best: ReadMode;
  checksumsAgree: boolean;
  /** Modes that cannot read this source (e.g. mmap on a block device), with the reason. */
  skippedModes: { mode: ReadMode; reason: string }[];
}

export type Skipped = { status: 'skipped'; reason: string };

export interface BenchReport {
  image: string;
  format: string;
  note: string;
  conditions: BenchConditions;
  workloads: {
    sequentialRead: ReadWorkloadResult | Skipped;
    randomRead: ReadWorkloadResult | Skipped;
    metadataWalk: { status: 'ran'; entries: number; entriesPerSec: RunSummary } | Skipped;
    fatCache: { status: 'ran'; caches: Record<string, { hits: number; misses: number; hitRatePct: number }> } | Skipped;
    allocation: AllocationResult;
  };
  process: { peakRssMiB: number; cpuUserMs: number; cpuSysMs: number };
}

const MB = 1e6;

async function measureModes(target: BenchTarget, source: BlockSource, name: string, extents: Extent[], unit: 'MB/s' | 'reads/s', what: string, options: BenchOptions, perRun: { chunkSize?: number; count?: number }): Promise<ReadWorkloadResult> {
  const rows: ModeRow[] = [];
  const skippedModes: { mode: ReadMode; reason: string }[] = [];
  let bytes = 0;
  for (const mode of options.modes) {
    const runs: ReadRun[] = [];
    for (let run = 0; run < options.runs; run++) {
      if (options.dropCache) dropCache(target.path);
      let last = 0;
      const r = await readExtents(source, extents, {
        mode,
        chunkSize: perRun.chunkSize ?? options.chunkSize,
        depth: options.depth,
        workers: options.workers,
        hash: unit === 'reads/s' ? 'crc32' : options.hash,
        signal: options.signal,
        onProgress: (fraction) => {
          const now = performance.now();
          if (now - last < 50 && fraction < 1) return;
          last = now;
          options.onEvent?.({ type: 'progress', workload: name, mode, run, runs: options.runs, fraction });
        },
      }).catch((error: unknown) => {
        if (error instanceof DiskkitError && error.code === ErrorCode.UNSUPPORTED) return error;
        throw error;
      });
      if (r instanceof DiskkitError) {
        skippedModes.push({ mode, reason: r.message });
        break;
      }
      runs.push(r);
      bytes = r.bytes;
    }
    if (runs.length === 0) continue;
    const rates = runs.map((r) => (unit === 'MB/s' ? r.bytes / MB / r.seconds : (perRun.count ?? r.scan.chunks) / r.seconds));
    const order = rates.map((rate, i) => ({ rate, i })).sort((a, b) => a.rate - b.rate);
    const median = runs[order[Math.floor((order.length - 1) / 2)]!.i]!;
    const row: ModeRow = {
      mode,
      ranAs: median.scan.mode,
      autoReason: median.scan.autoReason,
      chunkSize: median.scan.chunkSize,
      depth: median.scan.depth,
      workers: median.scan.workers,
      rate: summarize(rates),
      seconds: summarize(runs.map((r) => r.seconds)),
      latencyMs: { p50: median.scan.stats.chunkLatencyMs.p50, p95: median.scan.stats.chunkLatencyMs.p95, p99: median.scan.stats.chunkLatencyMs.p99 },
      checksum: median.crc32,
      sha256OfChunks: median.sha256OfChunks,
      cpuUserMs: Math.round(median.cpuUserMs),
      cpuSysMs: Math.round(median.cpuSysMs),
      stats: median.scan.stats,
      best: false,
    };
    rows.push(row);
    options.onEvent?.({ type: 'row', workload: name, row });
  }
  if (rows.length === 0) throw new DiskkitError(ErrorCode.UNSUPPORTED, `no read mode can read this source: ${skippedModes.map((m) => `${m.mode}: ${m.reason}`).join('; ')}`, { context: { image: target.path } });
  let best = rows[0]!;
  for (const row of rows) if (row.rate.median > best.rate.median) best = row;
  best.best = true;
  const sums = new Set(rows.map((r) => r.checksum));
  return { status: 'ran', unit, what, bytes, byMode: rows, best: best.mode, checksumsAgree: sums.size === 1, skippedModes };
}

export async function runBench(target: BenchTarget, options: BenchOptions): Promise<BenchReport> {
  const cache = options.dropCache ? dropCache(target.path) : { dropped: false, action: 'none: page cache as found (warm after the first run)' };
  const conditions: BenchConditions = {
    ...machineConditions(),
    cache: cache.dropped ? 'cold' : 'warm',
    cacheAction: cache.action,
    modes: options.modes,
    chunkSize: options.chunkSize ?? 'per-mode default',
    depth: options.depth ?? 'per-mode default',
    workers: options.workers ?? 'available cores',
    hash: options.hash,
    runs: options.runs,
    seconds: options.seconds,
  };
  const volume = target.volume;
  const workloads = volume ? ['sequentialRead', 'randomRead', 'metadataWalk', 'fatCache', 'allocation'] : ['sequentialRead'];
  options.onEvent?.({ type: 'start', workloads, modes: options.modes, conditions });
  const noVolume: Skipped = { status: 'skipped', reason: `${target.format} source: no file system to walk` };
  const report: BenchReport = {
    image: target.path,
    format: target.format,
    note: target.note,
    conditions,
    workloads: { sequentialRead: noVolume, randomRead: noVolume, metadataWalk: noVolume, fatCache: noVolume, allocation: noVolume },
    process: { peakRssMiB: 0, cpuUserMs: 0, cpuSysMs: 0 },
  };

  if (!volume) {
    report.workloads.sequentialRead = await measureModes(target, target.source, 'sequentialRead', [{ position: 0, length: target.source.size }], 'MB/s', 'the whole file', options, {});
  } else {
    // one walk collects the files for the read workloads; the timed walks only list
    let walk = walkMetadata(volume, { collectExtents: true });
    const walks: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      if (options.dropCache) dropCache(target.path);
      const timed = walkMetadata(volume, { collectExtents: false });
      walks.push(timed.entries / Math.max(timed.seconds, 1e-9));
    }
    report.workloads.metadataWalk = { status: 'ran', entries: walk.entries, entriesPerSec: summarize(walks) };
    options.onEvent?.({ type: 'workload', name: 'metadataWalk', result: report.workloads.metadataWalk });

    const largest = walk.files.reduce<(typeof walk.files)[number] | null>((a, f) => (!a || f.size > a.size ? f : a), null);
    report.workloads.sequentialRead = largest
      ? await measureModes(target, walk.source, 'sequentialRead', largest.extents, 'MB/s', `largest file ${largest.path} (${largest.size} bytes, ${largest.extents.length} extents)`, options, {})
      : { status: 'skipped', reason: 'the volume holds no file with data' };

    // size the random runs from a calibration pass, so each run lasts about seconds/runs
    const calibrate = randomReadPlan(walk.files, 500, 1);
    if (calibrate.length === 0) {
      report.workloads.randomRead = { status: 'skipped', reason: 'no file of 4 KiB or more' };
    } else {
      const probe = await readExtents(walk.source, calibrate, { mode: 'streaming', chunkSize: 4096, hash: 'none' });
      const perSecond = 500 / Math.max(probe.seconds, 1e-6);
      const count = Math.max(500, Math.min(200_000, Math.round((perSecond * options.seconds) / options.runs / Math.max(1, options.modes.length))));
      const plan = randomReadPlan(walk.files, count, 42);
      report.workloads.randomRead = await measureModes(target, walk.source, 'randomRead', plan, 'reads/s', `${count} random 4 KiB reads inside files`, options, { chunkSize: 4096, count });
    }

    const caches = cacheStatsOf(volume);
    report.workloads.fatCache = caches
      ? { status: 'ran', caches: Object.fromEntries(Object.entries(caches).map(([k, c]) => [k, { ...c, hitRatePct: c.hits + c.misses ? Math.round((c.hits / (c.hits + c.misses)) * 1000) / 10 : 0 }])) }
      : { status: 'skipped', reason: 'this volume does not expose cache counters (cacheStats())' };
    report.workloads.allocation = allocationWorkload(volume);
    walk = { entries: 0, seconds: 0, files: [], source: target.source };
  }
  const usage = resourceUsage();
  report.process = { peakRssMiB: Math.round((usage.maxRSS / 1024) * 10) / 10, cpuUserMs: Math.round(usage.userCPUTime / 1000), cpuSysMs: Math.round(usage.systemCPUTime / 1000) };
  return report;
}

/**
 * `mft bench`: `mft index --format none` per read mode, each run in its own process
 * (so CPU and peak memory are that mode's alone), the modes taking turns.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DiskkitError, ErrorCode } from '../errors.js';
import type { MftIndexSummary } from '../ntfs/index-run.js';

export interface BenchRow {
  mode: string;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  /** CPU seconds / wall seconds: 1.0 = one core busy. */
  cpuUse: number;
  /** User + system CPU seconds of the whole process. */
  cpuSeconds: number;
  peakRssMiB: number;
  workers: number;
  best: boolean;
}

export interface BenchResult {
  source: string;
  records: number;
  rows: number;
  modes: BenchRow[];
  best: string;
}

/**
 * Runs `mft index --format none` per mode, each run in its own process (so CPU and
 * peak memory are that mode's alone). With several runs the modes take turns (one
 * run of each, then again), so a busy machine slows them alike, and each mode's
 * median run is kept.
 */
export async function runMftBench(path: string, options: { modes: string[]; runs: number; chunkSize?: string | undefined; workers?: string | undefined; skipUnused: boolean; partition: number | undefined }): Promise<BenchResult> {
  const bin = fileURLToPath(new URL('../../../bin/diskkit.js', import.meta.url));
  const samples = new Map<string, MftIndexSummary[]>(options.modes.map((m) => [m, []]));
  for (let i = 0; i < options.runs; i++) {
    for (const mode of options.modes) {
      const args = [bin, '--json', 'mft', 'index', path, '--format', 'none', '--mode', mode];
      if (options.chunkSize) args.push('--chunk-size', options.chunkSize);
      if (options.workers) args.push('--workers', options.workers);
      if (options.skipUnused) args.push('--skip-unused');
      if (options.partition !== undefined) args.splice(1, 0, '--partition', String(options.partition));
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (r.status !== 0) throw new DiskkitError(ErrorCode.IO, `mode ${mode} failed: ${r.stderr.trim()}`, { context: { image: path, mode } });
      samples.get(mode)!.push(JSON.parse(r.stdout) as MftIndexSummary);
    }
  }
  const rows: BenchRow[] = options.modes.map((mode) => {
    const runs = [...samples.get(mode)!].sort((a, b) => a.seconds - b.seconds);
    const median = runs[(runs.length - 1) >> 1]!;
    return {
      mode,
      records: median.records,
      seconds: median.seconds,
      recordsPerSecond: median.recordsPerSecond,
      mbPerSecond: median.mbPerSecond,
      cpuUse: median.cpuSeconds / median.seconds,
      cpuSeconds: median.cpuSeconds,
      peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
      workers: median.workers,
      best: false,
    };
  });
  const top = rows.reduce((a, b) => (b.recordsPerSecond > a.recordsPerSecond ? b : a), rows[0]!);
  top.best = true;
  const first = samples.get(options.modes[0]!)![0]!;
  return { source: path, records: first.records, rows: first.rows, modes: rows, best: top.mode };
}

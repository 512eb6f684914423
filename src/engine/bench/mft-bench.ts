/**
 * `mft bench`: `mft index --format none` per read mode, each run in its own process
 * (so CPU and peak memory are that mode's alone), the modes taking turns.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DiskkitError, ErrorCode } from '../errors.js';
import type { MftIndexSummary } from '../ntfs/index-run.js';
import type { ScanResult } from '../../io/scan.js';

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
  /** The median run's I/O statistics (when asked for). */
  stats?: ScanResult;
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
/** One `diskkit …` child run to its end (or killed when `signal` fires: E_CANCELLED). */
function runChild(args: string[], signal: AbortSignal | undefined): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const onAbort = (): void => {
      child.kill('SIGINT');
      reject(new DiskkitError(ErrorCode.CANCELLED, 'interrupted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', reject);
    child.on('close', (status) => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ status, stdout, stderr });
    });
  });
}

export async function runMftBench(
  path: string,
  options: {
    modes: string[];
    runs: number;
    chunkSize?: string | undefined;
    workers?: string | undefined;
    skipUnused: boolean;
    partition: number | undefined;
    stats?: boolean;
    signal?: AbortSignal;
    /** Called after each run with the runs done so far. */
    onRun?: (done: number) => void;
  },
): Promise<BenchResult> {
  const bin = fileURLToPath(new URL('../../../bin/diskkit.js', import.meta.url));
  const samples = new Map<string, MftIndexSummary[]>(options.modes.map((m) => [m, []]));
  for (let i = 0; i < options.runs; i++) {
    for (const mode of options.modes) {
      const args = [bin, '--json', 'mft', 'index', path, '--format', 'none', '--mode', mode];
      if (options.chunkSize) args.push('--chunk-size', options.chunkSize);
      if (options.workers) args.push('--workers', options.workers);
      if (options.skipUnused) args.push('--skip-unused');
      if (options.partition !== undefined) args.splice(1, 0, '--partition', String(options.partition));
      if (options.stats) args.push('--stats');
      // Asynchronous, so a progress view keeps drawing and Ctrl-C ends the run under way.
      const r = await runChild(args, options.signal);
      if (r.status !== 0) throw new DiskkitError(ErrorCode.IO, `mode ${mode} failed: ${r.stderr.trim()}`, { context: { image: path, mode } });
      samples.get(mode)!.push(JSON.parse(r.stdout) as MftIndexSummary);
      options.onRun?.(i * options.modes.length + options.modes.indexOf(mode) + 1);
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
      ...(median.scan ? { stats: median.scan } : {}),
    };
  });
  const top = rows.reduce((a, b) => (b.recordsPerSecond > a.recordsPerSecond ? b : a), rows[0]!);
  top.best = true;
  const first = samples.get(options.modes[0]!)![0]!;
  return { source: path, records: first.records, rows: first.rows, modes: rows, best: top.mode };
}

/**
 * The work behind `mft index` and `mft bench`, loaded only when one of them runs:
 * opens the source, runs the engine, routes row bytes to a file or stdout (waiting
 * for a slow pipe, stopping quietly on EPIPE), and assembles the summary.
 */
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DiskkitError, ErrorCode, fromSystemError, type DiskkitWarning } from '../engine/errors.js';
import type { ReadMode, ScanResult } from '../io/scan.js';
import type { WorkerPool } from '../io/parallel.js';
import { openMftSource, indexMftSource } from '../engine/ntfs/open-mft.js';
import { countRows, writeRows, type RowFormatter, type RowTotals } from '../engine/ntfs/format-rows.js';
import { PARALLEL_FORMAT_MIN_RECORDS, startFormatWorker, writeRowsToFd, type FormatWorker } from '../engine/ntfs/format-parallel.js';
import { jsonlFormatter } from '../engine/ntfs/format-jsonl.js';
import { csvFormatter } from '../engine/ntfs/format-csv.js';
import { bodyfileFormatter } from '../engine/ntfs/format-bodyfile.js';

export interface MftIndexRequest {
  format: 'jsonl' | 'csv' | 'bodyfile' | 'none';
  out: string | undefined;
  toStdout: boolean;
  streams: boolean;
  deleted: boolean;
  strict: boolean;
  skipUnused: boolean;
  mode: string;
  chunkSize: number | undefined;
  depth?: number | undefined;
  workers: number | undefined;
  partition: number | undefined;
  signal?: AbortSignal;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Parse workers started ahead by the command (parallel mode). */
  pool?: WorkerPool | undefined;
  /** Include the read layer's statistics in the summary (--stats). */
  stats?: boolean;
}

export interface MftIndexSummary {
  /** The read layer's statistics, with --stats. */
  scan?: ScanResult;
  source: string;
  kind: 'dump' | 'volume';
  recordSize: number;
  records: number;
  inUse: number;
  files: number;
  dirs: number;
  orphans: number;
  deleted: number;
  streams: number;
  rows: number;
  badRecords: number;
  byStatus: Record<string, number>;
  seconds: number;
  indexSeconds: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  mode: string;
  /** Why auto picked `mode` (null when a mode was asked for). */
  autoReason: string | null;
  workers: number;
  /** Threads that formatted rows: 2 for a large index written to a file or device (format-parallel.ts), else 1. */
  formatThreads: number;
  cpuSeconds: number;
  peakRssMiB: number;
  warningCount: number;
  warnings: DiskkitWarning[];
}

const FORMATTERS: Record<string, RowFormatter> = { jsonl: jsonlFormatter, csv: csvFormatter, bodyfile: bodyfileFormatter };

/** `sync`: write() is done with the bytes when it returns, so the caller may reuse them. */
type Sink = { write(bytes: Uint8Array): void | Promise<void>; close(): void; sync: boolean };

/** Whether stdout is a file or a device, written with synchronous writes (not a pipe or a socket). */
function stdoutIsSync(): boolean {
  try {
    const st = fstatSync(1);
    return st.isFile() || st.isCharacterDevice();
  } catch {
    return false;
  }
}

function stdoutSink(): Sink {
  const direct = stdoutIsSync();
  let broken = false;
  if (direct) {
    return {
      write(bytes) {
        if (broken) return;
        try {
          for (let at = 0; at < bytes.length; ) at += writeSync(1, bytes, at, bytes.length - at);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EPIPE') broken = true;
          else throw fromSystemError(error, 'stdout', 'write');
        }
      },
      close() {},
      sync: true,
    };
  }
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') broken = true;
  });
  return {
    write(bytes) {
      if (broken) return;
      // The writer's buffer is handed over (ByteWriter.take gives a fresh one), so no copy is needed.
      if (!process.stdout.write(bytes)) return new Promise<void>((resolve) => process.stdout.once('drain', resolve));
    },
    close() {},
    sync: false,
  };
}

/**
 * For tests only: the record count from which rows are formatted on two threads
 * (default PARALLEL_FORMAT_MIN_RECORDS), so small fixtures take that path too.
 */
function formatWorkerMinRecords(): number {
  const value = process.env.DISKKIT_FORMAT_WORKER_MIN_RECORDS;
  return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : PARALLEL_FORMAT_MIN_RECORDS;
}

/**
 * Rows written with synchronous writes (--out's temporary file, or stdout redirected
 * to a file or a device; a pipe is written asynchronously) are formatted on two
 * threads when there are two cores and the source may hold enough records. The worker
 * starts before the index is built, so its start-up overlaps the build.
 */
function startFormatWorkerFor(request: MftIndexRequest, sourceBytes: number, minRecords: number): FormatWorker | null {
  if (request.format === 'none') return null;
  if (request.out === undefined && !(request.toStdout && stdoutIsSync())) return null;
  // No MFT record is smaller than a 512-byte sector: a smaller source cannot reach minRecords.
  if (availableParallelism() < 2 || sourceBytes < minRecords * 512) return null;
  return startFormatWorker(request.format);
}

export async function runMftIndex(path: string, request: MftIndexRequest): Promise<MftIndexSummary> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const source = openMftSource(path, { partition: request.partition });
  const minRecords = formatWorkerMinRecords();
  let formatWorker: FormatWorker | null = null;
  try {
    formatWorker = startFormatWorkerFor(request, source.size, minRecords);
    const timed = await indexMftSource(source, {
      mode: request.mode as ReadMode,
      chunkSize: request.chunkSize,
      depth: request.depth,
      workers: request.workers,
      skipUnused: request.skipUnused,
      // A second thread formats half of the rows, reading the index in shared memory.
      shareIndex: formatWorker !== null,
      signal: request.signal,
      onProgress: request.onProgress,
      pool: request.pool,
    });
    const { index } = timed;
    if (request.strict && index.warningCount > 0) {
      const first = index.warnings[0]!;
      throw new DiskkitError(ErrorCode.STRICT, `--strict: ${first.message}${index.warningCount > 1 ? ` (and ${index.warningCount - 1} more)` : ''}`, {
        context: { image: path, ...(first.context ?? {}) },
      });
    }
    if (request.skipUnused && !timed.layout.bitmap) {
      index.warnings.push({ code: ErrorCode.UNSUPPORTED, message: '--skip-unused needs $MFT\'s $BITMAP, which a bare dump lacks; every record was read' });
      index.warningCount++;
    }
    const rowOptions = { deleted: request.deleted, streams: request.streams };
    let totals: RowTotals;
    let formatThreads = 1;
    const worker = formatWorker;
    const parallel = { signal: request.signal, minRecords };
    if (request.format === 'none' || (!request.out && !request.toStdout)) totals = countRows(index, rowOptions);
    else if (request.out) {
      const out = request.out;
      // Under a temporary name, renamed into place at the end: an error or Ctrl-C leaves no partial file.
      const { writeAtomically } = await import('../io/atomic-output.js');
      const formatter = FORMATTERS[request.format]!;
      const written = await writeAtomically(out, (file) => worker
        ? writeRowsToFd(index, rowOptions, formatter, { fd: file.fd, name: out, action: 'write output file' }, worker, parallel)
        : writeRows(index, rowOptions, formatter, (bytes) => file.write(bytes), undefined, true).then((t) => ({ totals: t, threads: 1 })), {
        signal: request.signal,
        durable: false,
      });
      ({ totals, threads: formatThreads } = written);
    } else if (worker) {
      ({ totals, threads: formatThreads } = await writeRowsToFd(index, rowOptions, FORMATTERS[request.format]!, { fd: 1, name: 'stdout', action: 'write' }, worker, parallel));
    } else {
      const sink = stdoutSink();
      try {
        totals = await writeRows(index, rowOptions, FORMATTERS[request.format]!, (bytes) => sink.write(bytes), undefined, sink.sync);
      } finally {
        sink.close();
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const c = index.counts;
    return {
      source: path,
      kind: timed.layout.kind,
      recordSize: timed.layout.recordSize,
      records: c.records,
      inUse: c.inUse,
      files: totals.files,
      dirs: totals.dirs,
      orphans: totals.orphans,
      deleted: totals.deleted,
      streams: totals.streams,
      rows: totals.rows,
      badRecords: c.badRecords,
      byStatus: c.byStatus,
      seconds,
      indexSeconds: timed.seconds,
      recordsPerSecond: c.records / seconds,
      mbPerSecond: timed.bytesRead / 2 ** 20 / seconds,
      mode: timed.mode,
      autoReason: timed.autoReason,
      workers: timed.workers,
      formatThreads,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      warningCount: index.warningCount,
      warnings: index.warnings,
      ...(request.stats ? { scan: timed.scan } : {}),
    };
  } finally {
    // Not used (an error before output, or one thread after all): it holds no resources worth waiting for.
    void formatWorker?.worker.terminate();
    source.close();
  }
}

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
  /** The median run's I/O statistics (--stats). */
  stats?: ScanResult;
}

export interface BenchResult {
  source: string;
  records: number;
  rows: number;
  modes: BenchRow[];
  best: string;
}

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

/**
 * Runs `mft index --format none` per mode, each run in its own process (so CPU and
 * peak memory are that mode's alone). With several runs the modes take turns (one
 * run of each, then again), so a busy machine slows them alike, and each mode's
 * median run is kept.
 */
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
  const bin = fileURLToPath(new URL('../../bin/diskkit.js', import.meta.url));
  const samples = new Map<string, MftIndexSummary[]>(options.modes.map((m) => [m, []]));
  for (let i = 0; i < options.runs; i++) {
    for (const mode of options.modes) {
      const args = [bin, '--json', 'mft', 'index', path, '--format', 'none', '--mode', mode];
      if (options.chunkSize) args.push('--chunk-size', options.chunkSize);
      if (options.workers) args.push('--workers', options.workers);
      if (options.skipUnused) args.push('--skip-unused');
      if (options.partition !== undefined) args.splice(1, 0, '--partition', String(options.partition));
      if (options.stats) args.push('--stats');
      // Run asynchronously, so the progress view keeps drawing and Ctrl-C ends the run under way.
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

export function renderBenchTable(result: BenchResult): string {
  const lines = [
    `mft bench ${result.source}: ${result.records} records, ${result.rows} paths`,
    '',
    'mode        workers   records/s       MB/s    CPU  CPU s   peak MiB   seconds',
  ];
  for (const r of result.modes) {
    lines.push(
      `${(r.best ? '* ' : '  ') + r.mode.padEnd(10)}${String(r.workers).padStart(7)}${Math.round(r.recordsPerSecond).toLocaleString('en-US').padStart(12)}${r.mbPerSecond.toFixed(0).padStart(11)}` +
        `${(r.cpuUse * 100).toFixed(0).padStart(6)}%${r.cpuSeconds.toFixed(2).padStart(7)}${r.peakRssMiB.toFixed(0).padStart(10)}${r.seconds.toFixed(3).padStart(10)}`,
    );
  }
  lines.push('', `* best: ${result.best}`);
  return lines.join('\n') + '\n';
}

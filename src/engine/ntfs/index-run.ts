/**
 * The `mft index` use case: opens the source, builds the index in the chosen read
 * mode, writes the rows (to an --out file, or to the stream the command hands over
 * for stdout) on one thread or two, and assembles the summary. The command only
 * parses options and prints the summary.
 */
import { threadBudget } from '../../io/thread-budget.js';
import { startEncodeWorker, type EncodeThread } from '../parquet/encode-thread.js';
import { DiskkitError, ErrorCode, type DiskkitWarning } from '../errors.js';
import type { ReadMode, ScanResult } from '../../io/scan.js';
import type { WorkerPool } from '../../io/parallel.js';
import { openMftSource, indexMftSource } from './open-mft.js';
import type { IndexMemory } from './index-memory.js';
import { ZoneTimeRewriter } from './format-zone.js';
import { countRows, writeRows, type RowFormatter, type RowTotals } from './format-rows.js';
import { PARALLEL_FORMAT_MIN_RECORDS, startFormatWorker, writeRowsToFd, type FormatWorker } from './format-parallel.js';
import { jsonlFormatter } from './format-jsonl.js';
import { csvFormatter } from './format-csv.js';
import { bodyfileFormatter } from './format-bodyfile.js';

/**
 * Where rows go when there is no --out: stdout, as the command opened it. `fd` is set
 * when the descriptor is written synchronously (a file or a device), so a second
 * thread may write to it too; a pipe or socket has none and is written through `write`.
 */
export interface RowStream {
  fd: number | null;
  /** For messages ('stdout'). */
  name: string;
  write(bytes: Uint8Array): void | Promise<void>;
  /** write() is done with the bytes when it returns, so the caller may reuse them. */
  sync: boolean;
}

export interface MftIndexRequest {
  format: 'jsonl' | 'csv' | 'bodyfile' | 'parquet' | 'none';
  out: string | undefined;
  /** Rows without --out go here; undefined: rows are only counted (--json without --out). */
  stdout?: RowStream | undefined;
  streams: boolean;
  deleted: boolean;
  strict: boolean;
  skipUnused: boolean;
  mode: string;
  chunkSize: number | undefined;
  depth?: number | undefined;
  workers: number | undefined;
  partition: number | undefined;
  /** Byte offset of the volume in the image (-o / --offset-bytes). */
  offset?: number | undefined;
  /** -z: JSONL/CSV times in this zone instead of UTC (format-zone.ts). */
  timeZone?: string | undefined;
  signal?: AbortSignal;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Parse workers started ahead by the command (parallel mode). */
  pool?: WorkerPool | undefined;
  /** Include the read layer's statistics in the summary (--stats). */
  stats?: boolean;
  /**
   * Arrays kept from one source's index to the next (index-memory.ts), by a process that
   * indexes sources one after another (a fleet lane): this run takes over what the last
   * one left and, when it ends well, leaves its own.
   */
  memory?: IndexMemory | undefined;
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
  if (request.format === 'none' || request.format === 'parquet') return null;
  // -z rewrites the rows on their way out, on this thread.
  if (request.timeZone !== undefined) return null;
  if (request.out === undefined && (request.stdout?.fd ?? null) === null) return null;
  // No MFT record is smaller than a 512-byte sector: a smaller source cannot reach minRecords.
  if (threadBudget() < 2 || sourceBytes < minRecords * 512) return null;
  return startFormatWorker(request.format);
}

export async function runMftIndex(path: string, request: MftIndexRequest): Promise<MftIndexSummary> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const source = await openMftSource(path, { partition: request.partition, offset: request.offset });
  const minRecords = formatWorkerMinRecords();
  let formatWorker: FormatWorker | null = null;
  let parquetEncoder: EncodeThread | null = null;
  try {
    formatWorker = startFormatWorkerFor(request, source.size, minRecords);
    // The Parquet encoder's thread starts and compiles its WebAssembly while the index is built.
    if (request.format === 'parquet' && request.out !== undefined) parquetEncoder = startEncodeWorker();
    // Arrow (~160 modules) loads while the index is built: in parallel mode this thread mostly waits for the parse workers.
    const parquetModule = request.format === 'parquet' ? import('./format-parquet.js') : null;
    parquetModule?.catch(() => undefined);
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
      memory: request.memory,
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
    const zone = request.timeZone !== undefined && (request.format === 'jsonl' || request.format === 'csv') ? new ZoneTimeRewriter(request.format, request.timeZone) : null;
    const through = (write: (bytes: Uint8Array) => void) => (zone ? (bytes: Uint8Array) => write(zone.push(bytes)) : write);
    let totals: RowTotals;
    let formatThreads = 1;
    const worker = formatWorker;
    const parallel = { signal: request.signal, minRecords };
    const stdout = request.stdout;
    if (request.format === 'none' || (!request.out && !stdout)) totals = countRows(index, rowOptions);
    else if (request.format === 'parquet') {
      // Loaded only for Parquet: Arrow and the Parquet writer's WebAssembly are large.
      const { writeParquetFile, writeParquetRows } = await parquetModule!;
      // A file is written whole or not at all; stdout (redirected: the command refuses a terminal) gets the pieces as they come.
      totals = request.out
        ? await writeParquetFile(index, rowOptions, path, request.out, { signal: request.signal, encoder: parquetEncoder })
        : await writeParquetRows(index, rowOptions, path, (bytes) => stdout!.write(bytes));
    } else if (request.out) {
      const out = request.out;
      // Under a temporary name, renamed into place at the end: an error or Ctrl-C leaves no partial file.
      const { writeAtomically } = await import('../../io/atomic-output.js');
      const formatter = FORMATTERS[request.format]!;
      const written = await writeAtomically(out, (file) => worker
        ? writeRowsToFd(index, rowOptions, formatter, { fd: file.fd, name: out, action: 'write output file' }, worker, parallel)
        : writeRows(index, rowOptions, formatter, through((bytes) => file.write(bytes)), undefined, true).then((t) => {
            if (zone) file.write(zone.end());
            return { totals: t, threads: 1 };
          }), {
        signal: request.signal,
        durable: false,
      });
      ({ totals, threads: formatThreads } = written);
    } else if (worker && stdout!.fd !== null) {
      ({ totals, threads: formatThreads } = await writeRowsToFd(index, rowOptions, FORMATTERS[request.format]!, { fd: stdout!.fd, name: stdout!.name, action: 'write' }, worker, parallel));
    } else {
      totals = await writeRows(index, rowOptions, FORMATTERS[request.format]!, through((bytes) => stdout!.write(bytes)), undefined, stdout!.sync);
      if (zone) stdout!.write(zone.end());
    }
    // The rows are out and no thread works on the index any more: its arrays may serve the next source.
    request.memory?.keep(index);
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
    void parquetEncoder?.worker.terminate();
    source.close();
  }
}

/**
 * Row output on two threads, for a descriptor written with synchronous writes (a
 * file, /dev/null, --out's temporary file; not a pipe): a format worker and the main
 * thread claim blocks of records from a shared counter, format each block into their
 * own reused buffers and write them to the descriptor in block order
 * (format-turns.ts), so the bytes equal one thread's. The worker reads the index in
 * place (record table and name lists on SharedArrayBuffers); only the resolved
 * directory paths are copied to it.
 *
 * The worker is started before the index is built (startFormatWorker), so its
 * start-up (~50 ms of module loading) overlaps the scan instead of delaying output.
 */
import { Worker } from 'node:worker_threads';
import { DiskkitError, ErrorCode, fromSystemError } from '../errors.js';
import { cancelledError } from '../../io/chunk-read.js';
import { writeAllSync } from '../../io/write-all.js';
import { builtModuleUrl } from '../../io/built-module-url.js';
import { ByteWriter } from './byte-writer.js';
import { countRow, emptyTotals, writeRows, type OutputFormat, type RowFormatter, type RowTotals } from './format-rows.js';
import { forEachRow, type MftIndex, type RowOptions, type RowRef } from './mft-index.js';
import type { FormatWorkerSetup, FormatWorkerReply } from './format-worker.js';
import { abortTurns, blockClaimer, FormatSlot, TURN_BUFFER_BYTES, TURN_BUFFERS, TurnQueue, TurnResult, type FormatControl } from './format-turns.js';

/** Records per block at most: about 0.5 MB of JSONL, few enough hand-overs to cost nothing. */
export const MAX_BLOCK_RECORDS = 1024;
/** Below this many records a second thread costs more than it saves (start-up, the path copy). */
export const PARALLEL_FORMAT_MIN_RECORDS = 200_000;
/** How long the main thread blocks waiting for its turn before it lets events (a worker's exit, Ctrl-C) through. */
const TURN_PATIENCE_MS = 100;

const WORKER_MODULE = builtModuleUrl('./format-worker.js', import.meta.url);

/** Where rows go: a descriptor written synchronously, and what errors call it. */
export interface FdTarget {
  fd: number;
  /** The destination in error messages (a path, or `stdout`). */
  name: string;
  /** The failed action in error messages: `cannot <action>: …`. */
  action: string;
}

/** A format worker started ahead of the index build (see startFormatWorker). */
export interface FormatWorker {
  worker: Worker;
  format: OutputFormat;
  /** Set when the worker failed or stopped before it was given work. */
  early: Error | null;
}

export interface FdRowTotals {
  totals: RowTotals;
  /** Threads that formatted rows: 2, or 1 when the index was not shared or small. */
  threads: 1 | 2;
}

export interface ParallelFormatOptions {
  signal?: AbortSignal | undefined;
  /** Fewer records than this are formatted on one thread (default PARALLEL_FORMAT_MIN_RECORDS; tests lower it). */
  minRecords?: number | undefined;
  /** For tests: the threads take every other block instead of the next free one, so both certainly format. */
  alternateBlocks?: boolean | undefined;
}

/**
 * Starts a format worker for `format` now; it loads its modules and waits for
 * writeRowsToFd's setup. Unreferenced until then, so a failed index build still ends
 * the process; the caller terminates it when it is not used.
 */
export function startFormatWorker(format: OutputFormat): FormatWorker {
  const worker = new Worker(WORKER_MODULE, { workerData: { format } });
  const started: FormatWorker = { worker, format, early: null };
  worker.on('error', (error) => (started.early ??= error));
  worker.on('exit', (code) => (started.early ??= new Error(`exit code ${code}`)));
  worker.unref();
  return started;
}

/** Whether the record table lives in shared memory (the name lists always do) and has at least `minRecords` records. */
export function canFormatInParallel(index: MftIndex, minRecords = PARALLEL_FORMAT_MIN_RECORDS): boolean {
  return index.table.buffer instanceof SharedArrayBuffer && index.table.count >= minRecords;
}

/** Records per block: up to MAX_BLOCK_RECORDS, smaller for small tables so both threads get several blocks. */
export function blockRecordsFor(count: number): number {
  return Math.min(MAX_BLOCK_RECORDS, Math.max(16, Math.ceil(count / 256)));
}

/**
 * Writes every row of the index to `target` with `formatter`, as writeRows would,
 * with the format worker `started` (made for the same format) taking half of the
 * blocks; on this thread alone when the index is not shared or small. The worker is
 * terminated before this returns or throws. Throws E_WORKER when the worker fails,
 * E_IO (through fromSystemError) when a write fails, E_CANCELLED on `signal`.
 */
export async function writeRowsToFd(
  index: MftIndex,
  options: RowOptions,
  formatter: RowFormatter,
  target: FdTarget,
  started: FormatWorker,
  parallel: ParallelFormatOptions = {},
): Promise<FdRowTotals> {
  const { worker } = started;
  const { signal } = parallel;
  const writeError = (error: unknown): DiskkitError => fromSystemError(error, target.name, target.action);
  const workerError = (message: string, cause?: unknown): DiskkitError => new DiskkitError(ErrorCode.WORKER, `format worker failed: ${message}`, cause === undefined ? {} : { cause });
  if (started.early) {
    await worker.terminate();
    throw workerError(started.early.message, started.early);
  }
  if (!canFormatInParallel(index, parallel.minRecords)) {
    await worker.terminate();
    const totals = await writeRows(index, options, formatter, (bytes) => {
      if (signal?.aborted) throw cancelledError();
      try {
        writeAll(target.fd, bytes, bytes.length);
      } catch (error) {
        throw writeError(error);
      }
    }, undefined, true);
    return { totals, threads: 1 };
  }

  const count = index.table.count;
  const blockRecords = blockRecordsFor(count);
  const blocks = Math.ceil(count / blockRecords);
  const control: FormatControl = new Int32Array(new SharedArrayBuffer(4 * FormatSlot.WORDS));
  let workerTotals: RowTotals | null = null;
  let failure: DiskkitError | null = null;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const fail = (error: DiskkitError): void => {
    failure ??= error;
    abortTurns(control);
    poke();
  };
  const onAbort = (): void => fail(cancelledError());
  worker.ref();
  worker.on('message', (reply: FormatWorkerReply) => {
    if (reply.type === 'done') workerTotals = reply.totals;
    else if (reply.errno !== undefined) fail(writeError(Object.assign(new Error(reply.message), { code: reply.errno })));
    else fail(workerError(reply.message));
    poke();
  });
  worker.on('error', (error) => fail(workerError(error.message, error)));
  worker.on('exit', (code) => {
    if (workerTotals === null) fail(workerError(`it stopped unexpectedly (exit code ${code})`));
  });
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) throw cancelledError();
    const first = new ByteWriter(TURN_BUFFER_BYTES);
    if (formatter.header) {
      formatter.header(first);
      try {
        writeAll(target.fd, first.buf, first.pos);
      } catch (error) {
        throw writeError(error);
      }
      first.rewind();
    }
    const setup: FormatWorkerSetup = {
      options,
      table: index.table.buffer as SharedArrayBuffer,
      count,
      names: index.names.share,
      streams: index.streams.share,
      namesByRecord: index.namesByRecord,
      streamsByRecord: index.streamsByRecord,
      paths: index.paths.snapshot(),
      blockRecords,
      alternateBlocks: Boolean(parallel.alternateBlocks),
      fd: target.fd,
      control,
    };
    worker.postMessage(setup);
    const totals = emptyTotals();
    const buffers = [first, ...Array.from({ length: TURN_BUFFERS - 1 }, () => new ByteWriter(TURN_BUFFER_BYTES))];
    const queue = new TurnQueue(control, buffers, (bytes, length) => writeAll(target.fd, bytes, length));
    let current = queue.take();
    const visit = (row: RowRef): void => {
      formatter.row(current, index, row);
      countRow(index, row, totals);
    };
    const yieldToEvents = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
    /**
     * Writes the held blocks whose turn it is. With `untilOneWritten`, blocks in short
     * spells until at least one is written, letting events through in between (a
     * worker's exit or Ctrl-C is only seen that way). Returns false when stopped.
     */
    const flush = async (untilOneWritten: boolean): Promise<boolean> => {
      const before = queue.size;
      for (;;) {
        let held: number;
        try {
          held = queue.flush(untilOneWritten ? TURN_PATIENCE_MS : 0);
        } catch (error) {
          throw writeError(error);
        }
        if (held === TurnResult.ABORTED) return false;
        if (!untilOneWritten || held < before) return true;
        await yieldToEvents();
        if (failure) return false;
      }
    };
    const claim = blockClaimer(control, blocks, parallel.alternateBlocks ? { thread: 0 } : null);
    let claimed = 0;
    for (;;) {
      const k = claim();
      if (k < 0) break;
      const from = k * blockRecords;
      forEachRow(index, options, from, Math.min(count, from + blockRecords), visit);
      queue.push(k, current);
      if (!(await flush(queue.full))) break;
      current = queue.take();
      // Let events through now and then even when never waiting (Ctrl-C).
      if ((++claimed & 63) === 0) await yieldToEvents();
      if (failure) break;
    }
    while (!queue.empty && !failure) if (!(await flush(true))) break;
    while (workerTotals === null && !failure) await new Promise<void>((resolve) => (wake = resolve));
    if (failure) throw failure;
    const theirs = workerTotals as unknown as RowTotals;
    for (const key of Object.keys(totals) as (keyof RowTotals)[]) totals[key] += theirs[key];
    return { totals, threads: 2 };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    abortTurns(control);
    await worker.terminate();
  }
}

/** Writes bytes[0, length) to fd (a descriptor written synchronously). */
export function writeAll(fd: number, bytes: Uint8Array, length: number): void {
  writeAllSync(fd, bytes.subarray(0, length));
}

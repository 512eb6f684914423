/**
 * The format worker of format-parallel.ts: views the shared index, claims blocks of
 * records like the main thread, formats each into its reused buffers and writes it
 * to the descriptor when its turn comes (format-turns.ts). Started before the index
 * exists, so its start-up overlaps the index build; the setup comes as the first
 * message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ByteWriter } from './byte-writer.js';
import { countRow, emptyTotals, type OutputFormat, type RowFormatter, type RowTotals } from './format-rows.js';
import { forEachRow, type MftIndex, type RowOptions, type RowRef } from './mft-index.js';
import { attachRecordTable } from './record-table.js';
import { NameList, type NameListShare } from './name-list.js';
import type { NameIndex } from './name-groups.js';
import { PathResolver, type PathSnapshot } from './paths.js';
import { abortTurns, blockClaimer, FormatSlot, TURN_BUFFER_BYTES, TURN_BUFFERS, TurnQueue, TurnResult, type FormatControl } from './format-turns.js';
import { writeAllSync } from '../../io/write-all.js';

export interface FormatWorkerSetup {
  options: RowOptions;
  table: SharedArrayBuffer;
  count: number;
  names: NameListShare;
  streams: NameListShare;
  namesByRecord: NameIndex;
  streamsByRecord: NameIndex;
  paths: PathSnapshot;
  blockRecords: number;
  /** Every other block is this thread's (ParallelFormatOptions.alternateBlocks). */
  alternateBlocks: boolean;
  /** Written synchronously, in block order (format-turns.ts). */
  fd: number;
  control: FormatControl;
}

/** `errno`: the system error code of a failed write (the main thread words the error as its own writes'). */
export type FormatWorkerReply = { type: 'done'; totals: RowTotals } | { type: 'error'; message: string; errno?: string };

async function loadFormatter(format: OutputFormat): Promise<RowFormatter> {
  switch (format) {
    case 'jsonl':
      return (await import('./format-jsonl.js')).jsonlFormatter;
    case 'csv':
      return (await import('./format-csv.js')).csvFormatter;
    case 'bodyfile':
      return (await import('./format-bodyfile.js')).bodyfileFormatter;
  }
}

// Loaded while the main thread builds the index.
const formatterLoaded = loadFormatter((workerData as { format: OutputFormat }).format);

/** The index over the shared columns, with the main thread's resolved directory paths. */
function attachIndex(setup: FormatWorkerSetup): MftIndex {
  const table = attachRecordTable(setup.table, setup.count);
  const names = NameList.attach(setup.names);
  return {
    table,
    names,
    streams: NameList.attach(setup.streams),
    namesByRecord: setup.namesByRecord,
    streamsByRecord: setup.streamsByRecord,
    paths: PathResolver.fromSnapshot(table, names, setup.namesByRecord, setup.paths),
  } as MftIndex;
}

/** Formats and writes blocks until none is left; false when stopped by the other side. */
function formatBlocks(setup: FormatWorkerSetup, formatter: RowFormatter, totals: RowTotals, onWriteError: (error: unknown) => void): boolean {
  const index = attachIndex(setup);
  const write = (bytes: Uint8Array, length: number): void => {
    try {
      writeAllSync(setup.fd, bytes.subarray(0, length));
    } catch (error) {
      onWriteError(error);
      throw error;
    }
  };
  const buffers = Array.from({ length: TURN_BUFFERS }, () => new ByteWriter(TURN_BUFFER_BYTES));
  const queue = new TurnQueue(setup.control, buffers, write);
  let w = queue.take();
  const visit = (row: RowRef): void => {
    formatter.row(w, index, row);
    countRow(index, row, totals);
  };
  const claim = blockClaimer(setup.control, Math.ceil(setup.count / setup.blockRecords), setup.alternateBlocks ? { thread: 1 } : null);
  for (;;) {
    const k = claim();
    if (k < 0) break;
    const from = k * setup.blockRecords;
    forEachRow(index, setup.options, from, Math.min(setup.count, from + setup.blockRecords), visit);
    queue.push(k, w);
    if (queue.flush(queue.full ? Infinity : 0) === TurnResult.ABORTED) return false;
    w = queue.take();
  }
  while (!queue.empty) if (queue.flush(Infinity) === TurnResult.ABORTED) return false;
  // A claim that found no block left may also mean the main thread stopped.
  return Atomics.load(setup.control, FormatSlot.ABORT) === 0;
}

async function run(setup: FormatWorkerSetup): Promise<void> {
  const formatter = await formatterLoaded;
  const totals = emptyTotals();
  let finished: boolean;
  let writeError: unknown = null;
  try {
    finished = formatBlocks(setup, formatter, totals, (error) => (writeError = error));
  } catch (error) {
    abortTurns(setup.control);
    const message = error instanceof Error ? error.message : String(error);
    const errno = error === writeError ? (error as NodeJS.ErrnoException).code : undefined;
    parentPort!.postMessage({ type: 'error', message, ...(errno === undefined ? {} : { errno }) } satisfies FormatWorkerReply);
    return;
  }
  // Stopped: the main thread has its own reason (an error, Ctrl-C) and no use for totals.
  if (finished) parentPort!.postMessage({ type: 'done', totals } satisfies FormatWorkerReply);
}

parentPort!.once('message', (setup: FormatWorkerSetup) => void run(setup));

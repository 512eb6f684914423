/**
 * The MFT's per-chunk work module for src/io's `scanParallel` (see ChunkWorkerModule):
 * in `parallel` mode it runs in each worker on the chunk where it lies (shared memory,
 * or the worker's mapping of the file), records parsed without copying (the chunk is
 * only read: parse-records.ts), straight into the shared record
 * table and the shared name and stream lists — and returns only the entry ranges the
 * chunk filled in those lists (a few numbers). In every other mode the same code
 * runs on the main thread, so all modes fill the table and the lists identically.
 */
import { attachRecordTable, type RecordTable } from './record-table.js';
import { NameList, type NameListShare } from './name-list.js';
import { parseRecords, type ParseContext } from './parse-records.js';

/** What the scan passes as `workerData` (structured-cloned into each worker; shared buffers are shared). */
export interface ParseChunkData {
  /** The record table's buffer: a SharedArrayBuffer in parallel mode. */
  table: ArrayBuffer | SharedArrayBuffer;
  names: NameListShare;
  streams: NameListShare;
  recordCount: number;
  recordSize: number;
  clusterCount: number;
  bitmap: Uint8Array | null;
  /** The record ranges read, back to back in logical order: first record and count of each. */
  rangeFirst: number[];
  rangeCount: number[];
}

/** The entry ranges ([start, end) pairs) this chunk filled in the name and stream lists. */
export interface ParsedChunk {
  names: number[];
  streams: number[];
}

let attachedTo: ParseChunkData | null = null;
let ctx: ParseContext | null = null;

export function setup(data: unknown): void {
  const d = data as ParseChunkData;
  const table: RecordTable = attachRecordTable(d.table, d.recordCount);
  ctx = { table, names: NameList.attach(d.names), streams: NameList.attach(d.streams), recordSize: d.recordSize, clusterCount: d.clusterCount, bitmap: d.bitmap ?? undefined };
  attachedTo = d;
}

/**
 * The scan ended (on the main thread): drop the views of its table and lists. Kept,
 * they held the last source's record table and name lists (~25 MiB for 250,000
 * records) until the next source's first chunk: in a process indexing sources one
 * after another (an `mft index SRC...` lane) not even a full collection could free
 * them before then.
 */
export function teardown(): void {
  attachedTo = null;
  ctx = null;
}

export function process(chunk: Uint8Array, logicalOffset: number, data: unknown): ParsedChunk {
  const d = data as ParseChunkData;
  if (attachedTo !== d) setup(d);
  const c = ctx!;
  const { recordSize } = d;
  const recordsInChunk = Math.floor(chunk.length / recordSize);
  // Map the chunk's first logical record to its record number through the ranges read.
  let logical = logicalOffset / recordSize;
  let range = 0;
  while (range < d.rangeCount.length && logical >= d.rangeCount[range]!) logical -= d.rangeCount[range++]!;
  let done = 0;
  while (done < recordsInChunk && range < d.rangeCount.length) {
    const n = Math.min(recordsInChunk - done, d.rangeCount[range]! - logical);
    parseRecords(c, chunk, done * recordSize, d.rangeFirst[range]! + logical, n);
    done += n;
    logical = 0;
    range++;
  }
  return { names: c.names.takeRanges(), streams: c.streams.takeRanges() };
}

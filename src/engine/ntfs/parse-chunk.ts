/**
 * The MFT's per-chunk work module for src/io's `scanParallel` (see ChunkWorkerModule):
 * in `parallel` mode it runs in each worker on the chunk in shared memory — fixups
 * applied in place, records parsed without copying, straight into the shared record
 * table — and returns only the chunk's name and stream lists as compact typed arrays,
 * transferred (not cloned) back. In every other mode the same code runs on the main
 * thread, so all modes fill the table and the lists identically.
 */
import { attachRecordTable, NameList, transferListOf, type NameListTransfer, type RecordTable } from './record-table.js';
import { parseRecords, type ParseContext } from './parse-records.js';

/** What the scan passes as `workerData` (structured-cloned into each worker). */
export interface ParseChunkData {
  /** The record table's buffer: a SharedArrayBuffer in parallel mode. */
  table: ArrayBuffer | SharedArrayBuffer;
  recordCount: number;
  recordSize: number;
  clusterCount: number;
  bitmap: Uint8Array | null;
  /** The record ranges read, back to back in logical order: first record and count of each. */
  rangeFirst: number[];
  rangeCount: number[];
  /**
   * The chunks are views of a memory mapping (mmap mode). The mapping is private, so
   * writing it is safe, but each written page would be copied by a copy-on-write
   * fault; one copy of the chunk into a reused buffer is cheaper, and fixups are
   * applied there.
   */
  readOnlyChunks: boolean;
  /**
   * Set only when the module runs on the scan's own thread (every mode but
   * `parallel`): parse straight into these lists and return null, instead of
   * building per-chunk lists to append.
   */
  direct?: { names: NameList; streams: NameList };
}

export interface ParsedChunk {
  names: NameListTransfer;
  streams: NameListTransfer;
}

let table: RecordTable | null = null;
let tableBuffer: ArrayBuffer | SharedArrayBuffer | null = null;
let scratch: Uint8Array | null = null;
/** A worker's lists, reused chunk after chunk (each chunk's part is packed and transferred). */
let chunkNames: NameList | null = null;
let chunkStreams: NameList | null = null;

export function setup(data: unknown): void {
  const d = data as ParseChunkData;
  table = attachRecordTable(d.table, d.recordCount);
  tableBuffer = d.table;
}

export function process(chunk: Uint8Array, logicalOffset: number, data: unknown): ParsedChunk | null {
  const d = data as ParseChunkData;
  if (!table || tableBuffer !== d.table) setup(d);
  const { recordSize } = d;
  if (d.readOnlyChunks) {
    if (!scratch || scratch.length < chunk.length) scratch = new Uint8Array(chunk.length);
    scratch.set(chunk);
    chunk = scratch.subarray(0, chunk.length);
  }
  const recordsInChunk = Math.floor(chunk.length / recordSize);
  let names: NameList;
  let streams: NameList;
  if (d.direct) {
    names = d.direct.names;
    streams = d.direct.streams;
  } else {
    names = chunkNames ??= new NameList(recordsInChunk + 16, recordsInChunk * 24 + 256);
    streams = chunkStreams ??= new NameList(16, 256);
    names.truncate(0);
    streams.truncate(0);
  }
  const ctx: ParseContext = { table: table!, names, streams, recordSize, clusterCount: d.clusterCount, bitmap: d.bitmap ?? undefined };
  // Map the chunk's first logical record to its record number through the ranges read.
  let logical = logicalOffset / recordSize;
  let range = 0;
  while (range < d.rangeCount.length && logical >= d.rangeCount[range]!) logical -= d.rangeCount[range++]!;
  let done = 0;
  while (done < recordsInChunk && range < d.rangeCount.length) {
    const n = Math.min(recordsInChunk - done, d.rangeCount[range]! - logical);
    parseRecords(ctx, chunk, done * recordSize, d.rangeFirst[range]! + logical, n);
    done += n;
    logical = 0;
    range++;
  }
  if (d.direct) return null;
  return { names: names.toTransfer(), streams: streams.toTransfer() };
}

/** The result's buffers, moved to the main thread rather than copied. */
export function transferList(result: unknown): ArrayBuffer[] {
  const r = result as ParsedChunk | null;
  if (!r) return [];
  return [...transferListOf(r.names), ...transferListOf(r.streams)];
}

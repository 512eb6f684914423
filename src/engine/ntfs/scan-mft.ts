/**
 * Reading every MFT record into the record table, in any read mode of src/io.
 * Non-parallel modes stream record-aligned chunks through `scanExtents` and parse
 * them on this thread. `parallel` hands chunks in shared memory to worker threads
 * (parallel-parse.ts), which fix up and parse them in place; their name lists come
 * back in chunk order, so every mode yields the same table and lists.
 */
import { scanExtents, type ReadMode } from '../../io/scan.js';
import { inUseRanges, recordRangeExtents, type MftLayout } from './mft-source.js';
import { parseRecords, type ParseContext } from './parse-records.js';
import { allocateRecordTable, NameList, type RecordTable } from './record-table.js';
import { parseInWorkers } from './parallel-parse.js';

export interface ScanMftOptions {
  mode?: ReadMode;
  chunkSize?: number;
  workers?: number;
  depth?: number;
  /** Read only records whose $MFT $BITMAP bit is set (volumes only). */
  skipUnused?: boolean;
  signal?: AbortSignal;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export interface ScannedMft {
  table: RecordTable;
  names: NameList;
  streams: NameList;
  bytesRead: number;
  mode: ReadMode;
  workers: number;
}

export const DEFAULT_MFT_CHUNK = 4 << 20;

/** Record ranges to read: all records, or the in-use ones when asked and a $BITMAP is known. */
export function rangesToRead(layout: MftLayout, skipUnused: boolean): { first: number; count: number }[] {
  if (skipUnused && layout.bitmap) return inUseRanges(layout.bitmap, layout.recordCount);
  return layout.recordCount > 0 ? [{ first: 0, count: layout.recordCount }] : [];
}

/** Rounds a chunk size to whole records (at least one). */
export function alignChunk(chunkSize: number, recordSize: number): number {
  return Math.max(recordSize, Math.floor(chunkSize / recordSize) * recordSize);
}

export async function scanMft(layout: MftLayout, options: ScanMftOptions = {}): Promise<ScannedMft> {
  const mode = options.mode ?? 'streaming';
  const parallel = mode === 'parallel';
  const table = allocateRecordTable(layout.recordCount, parallel);
  const names = new NameList(Math.max(1024, Math.ceil(layout.recordCount * 1.2)), Math.max(16384, layout.recordCount * 24));
  const streams = new NameList(256, 4096);
  const ranges = rangesToRead(layout, Boolean(options.skipUnused));
  const bitmap = options.skipUnused && layout.bitmap ? layout.bitmap : undefined;
  const chunkSize = alignChunk(options.chunkSize ?? DEFAULT_MFT_CHUNK, layout.recordSize);
  if (parallel) {
    const workers = Math.max(1, options.workers ?? 2);
    const bytesRead = await parseInWorkers(layout, ranges, { table, names, streams, bitmap, chunkSize, workers, signal: options.signal, onProgress: options.onProgress });
    return { table, names, streams, bytesRead, mode, workers };
  }
  const ctx: ParseContext = { table, names, streams, recordSize: layout.recordSize, clusterCount: layout.clusterCount, bitmap };
  const bytesRead = await streamRecords(layout, ranges, ctx, { ...options, mode, chunkSize });
  return { table, names, streams, bytesRead, mode, workers: 1 };
}

async function streamRecords(layout: MftLayout, ranges: { first: number; count: number }[], ctx: ParseContext, options: ScanMftOptions & { mode: ReadMode; chunkSize: number }): Promise<number> {
  const { recordSize } = layout;
  const total = ranges.reduce((s, r) => s + r.count * recordSize, 0);
  let bytesRead = 0;
  // A record split across two chunks (extents need not be record-aligned when clusters are smaller than records).
  const carry = new Uint8Array(recordSize);
  for (const range of ranges) {
    let next = range.first;
    let carried = 0;
    await scanExtents(layout.source, recordRangeExtents(layout, range.first, range.count), (chunk) => {
      let at = 0;
      if (carried > 0) {
        const take = Math.min(recordSize - carried, chunk.length);
        carry.set(chunk.subarray(0, take), carried);
        carried += take;
        at = take;
        if (carried === recordSize) {
          parseRecords(ctx, carry, 0, next++, 1);
          carried = 0;
        }
      }
      const whole = Math.floor((chunk.length - at) / recordSize);
      if (whole > 0) parseRecords(ctx, chunk, at, next, whole);
      next += whole;
      at += whole * recordSize;
      if (at < chunk.length) {
        carry.set(chunk.subarray(at), 0);
        carried = chunk.length - at;
      }
      bytesRead += chunk.length;
      options.onProgress?.(bytesRead, total);
    }, { mode: options.mode, chunkSize: options.chunkSize, depth: options.depth, workers: options.workers, signal: options.signal });
  }
  return bytesRead;
}

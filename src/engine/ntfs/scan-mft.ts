/**
 * Reading every MFT record into the record table, in any read mode of src/io. All
 * modes go through `scanParallel` with the parse-chunk.ts work module and
 * record-aligned chunks: in `parallel` mode the workers read, fix up and parse their
 * chunks in shared memory into the shared table; in the other modes the read mode
 * delivers chunks and the same module parses them on this thread. The chunks' name
 * and stream lists are appended in logical order, so every mode yields the same
 * table and lists.
 */
import { builtModuleUrl } from '../../io/parallel.js';
import { scanParallel, type ConcreteMode, type ReadMode, type ScanResult } from '../../io/scan.js';
import { AUTO_SMALL_SCAN } from '../../io/auto.js';
import { inUseRanges, recordRangeExtents, type MftLayout } from './mft-source.js';
import { allocateRecordTable, NameList, type RecordTable } from './record-table.js';
import type { ParseChunkData, ParsedChunk } from './parse-chunk.js';
import type { Extent } from '../volume.js';

export interface ScanMftOptions {
  mode?: ReadMode;
  chunkSize?: number;
  workers?: number;
  depth?: number;
  /** Read only records whose $MFT $BITMAP bit is set (volumes only). */
  skipUnused?: boolean;
  signal?: AbortSignal;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Put the table and name lists in shared memory (for format workers) whatever the mode. */
  shareIndex?: boolean;
}

export interface ScannedMft {
  table: RecordTable;
  names: NameList;
  streams: NameList;
  bytesRead: number;
  /** The read mode that ran (auto resolved by src/io). */
  mode: string;
  workers: number;
  /** What the read layer reports: calls, bytes, waits, latency (for --stats). */
  scan: ScanResult;
}

const PARSE_MODULE = builtModuleUrl('./parse-chunk.js', import.meta.url);

/** Record ranges to read: all records, or the in-use ones when asked and a $BITMAP is known. */
export function rangesToRead(layout: MftLayout, skipUnused: boolean): { first: number; count: number }[] {
  if (skipUnused && layout.bitmap) return inUseRanges(layout.bitmap, layout.recordCount);
  return layout.recordCount > 0 ? [{ first: 0, count: layout.recordCount }] : [];
}

/** Rounds a chunk size to whole records (at least one). */
export function alignChunk(chunkSize: number, recordSize: number): number {
  return Math.max(recordSize, Math.floor(chunkSize / recordSize) * recordSize);
}

/**
 * `auto` for the MFT: prefetch (reads run on the libuv pool while this thread
 * parses) for anything but a small MFT. On the shared 2-core bench machine it
 * was the fastest mode for both `--format none` and JSONL, in wall and CPU time;
 * parallel parses in two workers but pays for it in CPU (BENCHMARKS.md), and a
 * loaded machine has no idle core to give it.
 */
export function chooseMftMode(layout: MftLayout): ConcreteMode {
  return layout.recordCount * layout.recordSize < AUTO_SMALL_SCAN ? 'streaming' : 'prefetch';
}

export async function scanMft(layout: MftLayout, options: ScanMftOptions = {}): Promise<ScannedMft> {
  const requested = options.mode ?? 'streaming';
  const workers = options.workers ?? 2;
  // auto is resolved here so the table is shared only when workers run.
  const mode: ConcreteMode = requested === 'auto' ? chooseMftMode(layout) : requested;
  const { recordSize, recordCount } = layout;
  const ranges = rangesToRead(layout, Boolean(options.skipUnused));
  const bitmap = options.skipUnused && layout.bitmap ? layout.bitmap : null;
  // Workers fill the table in place, so it lives in shared memory whenever workers may run.
  const shared = mode === 'parallel' || Boolean(options.shareIndex);
  const table = allocateRecordTable(recordCount, shared);
  const names = new NameList(Math.max(1024, Math.ceil(recordCount * 1.1)), Math.max(16384, recordCount * 20), Boolean(options.shareIndex));
  const streams = new NameList(256, 4096, Boolean(options.shareIndex));
  const extents: Extent[] = [];
  for (const r of ranges) extents.push(...recordRangeExtents(layout, r.first, r.count));
  const data: ParseChunkData = {
    table: table.buffer,
    recordCount,
    recordSize,
    clusterCount: layout.clusterCount,
    bitmap,
    rangeFirst: ranges.map((r) => r.first),
    rangeCount: ranges.map((r) => r.count),
    readOnlyChunks: mode === 'mmap',
  };
  if (mode !== 'parallel') data.direct = { names, streams };
  const chunkSize = options.chunkSize === undefined ? undefined : alignChunk(options.chunkSize, recordSize);
  const result = await scanParallel<ParsedChunk | null>(
    layout.source,
    extents,
    { mode, workerModule: PARSE_MODULE, workerData: data, workers, chunkSize, depth: options.depth, align: recordSize, signal: options.signal, onProgress: options.onProgress },
    (parsed) => {
      if (!parsed) return;
      names.append(parsed.names);
      streams.append(parsed.streams);
    },
  );
  return { table, names, streams, bytesRead: result.bytes, mode: result.mode, workers: result.mode === 'parallel' ? result.workers : 1, scan: result };
}

/**
 * Reading every MFT record into the record table, in any read mode of src/io. All
 * modes go through `scanParallel` with the parse-chunk.ts work module and
 * record-aligned chunks: in `parallel` mode the workers read, fix up and parse their
 * chunks in shared memory into the shared table and lists; in the other modes the
 * read mode delivers chunks and the same module parses them on this thread. Each
 * chunk reports which list entries it filled; grouping them by record in chunk order,
 * as chunks are merged, gives every mode the same per-record names and streams.
 */
import { totalmem } from 'node:os';
import { defaultWorkerCount, type WorkerPool } from '../../io/parallel.js';
import { onRotationalDisk } from '../../io/rotational.js';
import { AUTO_PARALLEL_MFT_BYTES, PARSE_MODULE } from './parse-module.js';
import { scanParallel, type ConcreteMode, type ReadMode, type ScanResult } from '../../io/scan.js';
import { AUTO_SMALL_SCAN, busyCoresNow, freeCores, secondCoreFree, type AutoChoice } from '../../io/auto.js';
import { inUseRanges, recordRangeExtents, type MftLayout } from './mft-source.js';
import { allocateRecordTable, recordTableBytes, type RecordTable } from './record-table.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { NameList } from './name-list.js';
import { NameGroupBuilder, type NameIndex } from './name-groups.js';
import type { IndexMemory } from './index-memory.js';
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
  /** Parse workers started ahead (startParseWorkers); used by a `parallel` scan, closed otherwise. */
  pool?: WorkerPool | undefined;
  /** Put the record table in shared memory whatever the mode (the name lists always are), for format workers. */
  shareIndex?: boolean;
  /** Arrays an earlier index in this process left (a fleet lane's previous source): taken over where they fit. */
  memory?: IndexMemory | undefined;
}

export interface ScannedMft {
  table: RecordTable;
  names: NameList;
  streams: NameList;
  /** Names and streams grouped by the record that holds them (before extension records are merged). */
  namesByRecord: NameIndex;
  streamsByRecord: NameIndex;
  bytesRead: number;
  /** The read mode that ran (auto resolved by src/io). */
  mode: string;
  /** Why auto picked it (null when a mode was asked for). */
  autoReason: string | null;
  workers: number;
  /** What the read layer reports: calls, bytes, waits, latency (for --stats). */
  scan: ScanResult;
}

export const PARALLEL_MFT_CHUNK = 4 << 20;

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
 * `auto` for the MFT, where parsing dominates reading (~1.7 GB/s a core against a
 * page-cached read several times faster): streaming for a small MFT; from
 * AUTO_PARALLEL_MFT_BYTES up, parallel when a second core is actually free (workers
 * parse in shared memory and write names straight into the shared lists: the
 * fastest mode in BENCHMARKS.md whenever the second core was free, the slowest when
 * other processes kept both cores busy); prefetch otherwise (reads run on the libuv
 * pool while this thread parses); pipelined on a rotational disk.
 */
export function chooseMftAuto(layout: MftLayout, cores = defaultWorkerCount(), load?: number, rotational = layout.source !== undefined && onRotationalDisk(layout.source)): AutoChoice {
  const bytes = layout.recordCount * layout.recordSize;
  const size = `MFT of ${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes < AUTO_SMALL_SCAN) return { mode: 'streaming', reason: `${size}: small, streaming has no start-up cost` };
  if (layout.source?.kind === 'memory') return { mode: 'streaming', reason: `${size} already in memory (read from a pipe): nothing to overlap` };
  // A spinning disk: one sequential reader with parsing beside it beats the workers' scattered reads (issue 13).
  if (rotational) return { mode: 'pipelined', reason: `${size} on a rotational disk: one sequential reader with parsing beside it beats scattered reads` };
  if (bytes < AUTO_PARALLEL_MFT_BYTES) return { mode: 'prefetch', reason: `${size}: parsing dominates; below ${AUTO_PARALLEL_MFT_BYTES / 2 ** 20} MiB workers cost more than they save, so reads overlap parsing on the I/O pool` };
  // One thread for this pipeline (one core, or its share when several sources run at once): no
  // worker could run, so sampling the CPUs would only keep this core idle (issue 13's --jobs runs).
  if (cores < 2) return { mode: 'prefetch', reason: `${size}: parsing dominates; one thread for this pipeline, so reads overlap parsing on the I/O pool` };
  const used = load ?? busyCoresNow();
  const free = freeCores(cores, used);
  const busy = `${cores} cores, ${free.toFixed(1)} free (measured just now)`;
  if (secondCoreFree(cores, used)) return { mode: 'parallel', reason: `${size}: parsing dominates and a second core is free (${busy})` };
  return { mode: 'prefetch', reason: `${size}: parsing dominates but no second core is free (${busy}): reads overlap parsing on the I/O pool instead` };
}

export function chooseMftMode(layout: MftLayout, cores = defaultWorkerCount(), load?: number, rotational?: boolean): ConcreteMode {
  return chooseMftAuto(layout, cores, load, rotational).mode;
}

export async function scanMft(layout: MftLayout, options: ScanMftOptions = {}): Promise<ScannedMft> {
  const requested = options.mode ?? 'streaming';
  const workers = options.workers ?? 2;
  // auto is resolved here so the table is shared only when workers run.
  const auto = requested === 'auto' ? chooseMftAuto(layout) : null;
  const mode: ConcreteMode = auto ? auto.mode : (requested as ConcreteMode);
  const { recordSize, recordCount } = layout;
  const ranges = rangesToRead(layout, Boolean(options.skipUnused));
  const bitmap = options.skipUnused && layout.bitmap ? layout.bitmap : null;
  // A claimed MFT size is bounded by the image, but a sparse image can still claim more than memory holds.
  const tableBytes = recordTableBytes(recordCount);
  if (tableBytes > totalmem()) {
    await options.pool?.close();
    throw new DiskkitError(ErrorCode.UNSUPPORTED, `an MFT of ${recordCount} records needs ${Math.ceil(tableBytes / 2 ** 20)} MiB for its index, more than this machine has`, { context: { image: layout.source.name, records: recordCount } });
  }
  const reuse = options.memory?.take() ?? null;
  // Workers fill the table in place, so it lives in shared memory whenever workers may run.
  const table = allocateRecordTable(recordCount, mode === 'parallel' || Boolean(options.shareIndex), reuse?.table);
  // Most records hold one or two names of ~10-20 characters.
  const names = NameList.create({ recordCount, recordSize, expectEntries: Math.ceil(recordCount * 1.1) + 8192, expectChars: recordCount * 20 + 131072 }, reuse?.names);
  const streams = NameList.create({ recordCount, recordSize, entryBlock: 256, charBlock: 4096 }, reuse?.streams);
  const nameGroups = new NameGroupBuilder(names, recordCount, Math.ceil(recordCount * 1.1), reuse?.namesByRecord);
  const streamGroups = new NameGroupBuilder(streams, recordCount, undefined, reuse?.streamsByRecord);
  const extents: Extent[] = [];
  for (const r of ranges) extents.push(...recordRangeExtents(layout, r.first, r.count));
  const data: ParseChunkData = {
    table: table.buffer,
    names: names.share,
    streams: streams.share,
    recordCount,
    recordSize,
    clusterCount: layout.clusterCount,
    bitmap,
    rangeFirst: ranges.map((r) => r.first),
    rangeCount: ranges.map((r) => r.count),
  };
  // Workers take 4 MiB (4,096 records) per job: fewer round trips to the merger than the 1 MiB default.
  const chunkSize = options.chunkSize === undefined ? (mode === 'parallel' ? PARALLEL_MFT_CHUNK : undefined) : alignChunk(options.chunkSize, recordSize);
  const result = await scanParallel<ParsedChunk>(
    layout.source,
    extents,
    { mode, workerModule: PARSE_MODULE, workerData: data, workers, pool: options.pool, chunkSize, depth: options.depth, align: recordSize, signal: options.signal, onProgress: options.onProgress },
    (parsed) => {
      // Chunks arrive in logical order: grouping now keeps every mode's per-record order the same.
      nameGroups.add(parsed.names);
      streamGroups.add(parsed.streams);
    },
  );
  names.refreshViews();
  streams.refreshViews();
  return { table, names, streams, namesByRecord: nameGroups.finish(), streamsByRecord: streamGroups.finish(), bytesRead: result.bytes, mode: result.mode, autoReason: auto?.reason ?? null, workers: result.mode === 'parallel' ? result.workers : 1, scan: result };
}

/**
 * Bulk reads: every read-heavy path (cat, cp out, fsck's scan, the MFT index, bench)
 * reads a list of extents through `scanExtents` (main-thread consumer) or
 * `scanParallel` (per-chunk work in a worker module), in the read mode the user chose.
 * Consumers see the chunks in logical order; every mode yields the same bytes.
 *
 * Modes (one module each): streaming, prefetch, pipelined, parallel, mmap, and auto,
 * which picks one of these and reports why in the result.
 */
import { pathToFileURL } from 'node:url';
import type { BlockSource } from './block-source.js';
import type { Extent } from '../engine/volume.js';
import { DiskkitError, ErrorCode } from '../engine/errors.js';
import { ChunkPlanner, alignChunkSize, validateExtents } from './chunk-plan.js';
import { StatsCollector, type CacheCounters, type ScanStats } from './scan-stats.js';
import type { ChunkConsumer, ModeContext } from './scan-context.js';
import { checkAborted } from './chunk-read.js';
import { chooseMode, type ConcreteMode } from './auto.js';
import { STREAMING_DEFAULT_CHUNK, scanStreaming } from './streaming.js';
import { PREFETCH_DEFAULT_CHUNK, PREFETCH_DEFAULT_DEPTH, scanPrefetch } from './prefetch.js';
import { PIPELINED_DEFAULT_CHUNK, PIPELINED_DEFAULT_DEPTH, scanPipelined } from './pipelined.js';
import { PARALLEL_DEFAULT_CHUNK, defaultParallelDepth, defaultWorkerCount, runParallel, type WorkerWork } from './parallel.js';
import { MMAP_DEFAULT_CHUNK, scanMmap } from './mmap.js';

export type { ChunkConsumer } from './scan-context.js';
export type { ScanStats, CacheCounters } from './scan-stats.js';
export type { ConcreteMode } from './auto.js';
export type { ChunkWorkerModule } from './parallel-worker.js';

import { READ_MODES, type ReadMode } from './read-mode-names.js';
export { READ_MODES, type ReadMode } from './read-mode-names.js';
export const CONCRETE_MODES: readonly ConcreteMode[] = ['streaming', 'prefetch', 'pipelined', 'parallel', 'mmap'];

/** Largest chunk accepted: bounded memory whatever the user asks for. */
export const MAX_CHUNK_SIZE = 256 << 20;
export const MAX_DEPTH = 1024;
export const MAX_WORKERS = 256;

export interface ScanOptions {
  mode?: ReadMode;
  /** Bytes per chunk; each mode has its own default (DEFAULT_CHUNK_SIZES). */
  chunkSize?: number;
  /** Buffers for prefetch (2 = double buffering), queue entries for pipelined, shared slots for parallel. */
  depth?: number;
  /** Worker count for parallel (default: os.availableParallelism()). */
  workers?: number;
  /** Chunk lengths are a multiple of this (e.g. the MFT record size), so records never straddle chunks. */
  align?: number;
  /** Called after each chunk with the bytes done so far (for progress bars). */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Aborting rejects the scan promptly with E_CANCELLED. */
  signal?: AbortSignal;
  /** Cache counters to copy into the stats when the scan ends (the FAT engine's caches). */
  caches?: () => Record<string, CacheCounters>;
}

export interface ScanResult {
  /** The mode that ran (auto resolved). */
  mode: ConcreteMode;
  requestedMode: ReadMode;
  /** Why auto picked `mode` (null when a mode was named). */
  autoReason: string | null;
  bytes: number;
  chunks: number;
  chunkSize: number;
  depth: number;
  workers: number;
  stats: ScanStats;
}

export const DEFAULT_CHUNK_SIZES: Record<ConcreteMode, number> = {
  streaming: STREAMING_DEFAULT_CHUNK,
  prefetch: PREFETCH_DEFAULT_CHUNK,
  pipelined: PIPELINED_DEFAULT_CHUNK,
  parallel: PARALLEL_DEFAULT_CHUNK,
  mmap: MMAP_DEFAULT_CHUNK,
};
/** Kept for callers of the first version of this module. */
export const DEFAULT_CHUNK_SIZE = STREAMING_DEFAULT_CHUNK;

function defaultDepth(mode: ConcreteMode, workers: number): number {
  if (mode === 'prefetch') return PREFETCH_DEFAULT_DEPTH;
  if (mode === 'pipelined') return PIPELINED_DEFAULT_DEPTH;
  if (mode === 'parallel') return defaultParallelDepth(workers);
  return 1;
}

interface Prepared {
  ctx: Omit<ModeContext, 'consume'>;
  mode: ConcreteMode;
  requestedMode: ReadMode;
  autoReason: string | null;
}

/** `workRate`: bytes/s a core gets through the per-chunk work workers could run (undefined: none). */
function prepare(source: BlockSource, extents: readonly Extent[], options: ScanOptions, workRate: number | undefined): Prepared {
  const total = validateExtents(source.name, source.size, extents);
  const requestedMode = options.mode ?? 'streaming';
  if (!(READ_MODES as readonly string[]).includes(requestedMode)) throw new DiskkitError(ErrorCode.USAGE, `unknown read mode '${requestedMode}'`, { context: { mode: requestedMode } });
  const workers = options.workers ?? defaultWorkerCount();
  let mode: ConcreteMode;
  let autoReason: string | null = null;
  let autoChunk: number | undefined;
  if (requestedMode === 'auto') {
    const choice = chooseMode(source, total, defaultWorkerCount(), workRate);
    mode = choice.mode;
    autoReason = choice.reason;
    autoChunk = choice.chunkSize;
  } else {
    mode = requestedMode;
  }
  const preferred = mode === 'streaming' ? source.preferredChunkSize : undefined;
  const chunkSize = alignChunkSize(options.chunkSize ?? autoChunk ?? preferred ?? DEFAULT_CHUNK_SIZES[mode], options.align ?? 1);
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw new DiskkitError(ErrorCode.USAGE, `chunk size must be 1 byte to 256 MiB, not ${chunkSize}`, { context: { chunkSize } });
  const depth = options.depth ?? defaultDepth(mode, workers);
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) throw new DiskkitError(ErrorCode.USAGE, `depth must be 1 to ${MAX_DEPTH}, not ${depth}`, { context: { depth } });
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) throw new DiskkitError(ErrorCode.USAGE, `workers must be 1 to ${MAX_WORKERS}, not ${workers}`, { context: { workers } });
  const stats = new StatsCollector();
  const ctx = {
    source,
    planner: new ChunkPlanner(extents, chunkSize),
    chunkSize,
    depth,
    workers,
    total,
    stats,
    signal: options.signal,
    progress: (done: number) => options.onProgress?.(done, total),
  };
  return { ctx, mode, requestedMode, autoReason };
}

function result(p: Prepared, options: ScanOptions): ScanResult {
  const stats = p.ctx.stats.finish(options.caches?.() ?? {});
  return {
    mode: p.mode,
    requestedMode: p.requestedMode,
    autoReason: p.autoReason,
    bytes: p.ctx.total,
    chunks: p.ctx.planner.chunksIssued,
    chunkSize: p.ctx.chunkSize,
    depth: p.ctx.depth,
    workers: p.mode === 'parallel' ? p.ctx.workers : 0,
    stats,
  };
}

async function runMode(mode: ConcreteMode, ctx: ModeContext): Promise<void> {
  switch (mode) {
    case 'streaming':
      return scanStreaming(ctx);
    case 'prefetch':
      return scanPrefetch(ctx);
    case 'pipelined':
      return scanPipelined(ctx);
    case 'mmap':
      return scanMmap(ctx);
    case 'parallel':
      return runParallel(ctx, {}, ({ view, chunk }) => ctx.consume(view, chunk.logicalOffset));
  }
}

/**
 * Reads `extents` of `source` in order and hands each chunk to `consume` on the main
 * thread. Past-end extents throw E_SHORT_READ before anything is read; an abort
 * rejects with E_CANCELLED. In parallel mode the workers only read; use scanParallel
 * to move per-chunk work into them.
 */
export async function scanExtents(source: BlockSource, extents: readonly Extent[], consume: ChunkConsumer, options: ScanOptions = {}): Promise<ScanResult> {
  const p = prepare(source, extents, options, undefined);
  checkAborted(options.signal);
  const ctx: ModeContext = { ...p.ctx, consume };
  await runMode(p.mode, ctx);
  checkAborted(options.signal);
  return result(p, options);
}

export interface ParallelScanOptions extends ScanOptions, WorkerWork {
  /** The module whose `process(chunk, logicalOffset, data)` runs per chunk. */
  workerModule: URL | string;
  /** Bytes/s one core gets through that work (measured; auto compares it with reading). */
  workRate?: number;
}

/** A worker module of unknown cost is taken to be CPU-heavy (as parsing is). */
const UNMEASURED_WORK_RATE = 1e9;

/** Receives each chunk's `process` result in logical order, on the main thread. */
export type ResultConsumer<R> = (result: R, index: number, logicalOffset: number, length: number) => void | Promise<void>;

/**
 * Scans `extents` and runs a worker module's per-chunk work where it is cheapest.
 *
 * For the MFT indexer and any CPU-heavy scan: write a module exporting
 * `process(chunk: Uint8Array, logicalOffset: number, data: unknown)` (and optionally
 * `setup(data)`); in mode `parallel` (the default here) it runs IN the workers on the
 * chunk in shared memory — parse in place, return a small structured-clonable result —
 * and `onResult(result, index, logicalOffset, length)` merges the results in logical
 * order on the main thread. In any other mode the same module runs on the main thread,
 * so every mode gives the same results. Use `align` (e.g. 1024 for MFT records) so no
 * record straddles two chunks. Worker errors reject with E_WORKER (the worker's
 * message); an abort rejects with E_CANCELLED after the workers are terminated.
 */
export async function scanParallel<R>(source: BlockSource, extents: readonly Extent[], options: ParallelScanOptions, onResult: ResultConsumer<R>): Promise<ScanResult> {
  let p: Prepared;
  try {
    p = prepare(source, extents, { ...options, mode: options.mode ?? 'parallel' }, options.workRate ?? UNMEASURED_WORK_RATE);
    checkAborted(options.signal);
  } catch (error) {
    await options.pool?.close();
    throw error;
  }
  const href = options.workerModule instanceof URL ? options.workerModule.href : options.workerModule.startsWith('file:') ? options.workerModule : pathToFileURL(options.workerModule).href;
  const data = options.workerData ?? null;
  if (p.mode === 'parallel') {
    const ctx: ModeContext = { ...p.ctx, consume: () => {} };
    await runParallel(ctx, { workerModule: href, workerData: data, pool: options.pool }, ({ result, chunk }) => onResult(result as R, chunk.index, chunk.logicalOffset, chunk.length));
  } else {
    await options.pool?.close();
    const mod = (await import(href)) as { setup?: (d: unknown) => unknown; process: (c: Uint8Array, o: number, d: unknown) => unknown; teardown?: () => void };
    if (typeof mod.process !== 'function') throw new DiskkitError(ErrorCode.WORKER, `${href} exports no process(chunk, logicalOffset, data) function`);
    await mod.setup?.(data);
    let index = 0;
    const ctx: ModeContext = {
      ...p.ctx,
      consume: async (chunk, logicalOffset) => {
        let r: unknown;
        try {
          r = mod.process(chunk, logicalOffset, data);
          if (r instanceof Promise) r = await r;
        } catch (error) {
          if (error instanceof DiskkitError) throw error;
          throw new DiskkitError(ErrorCode.WORKER, `worker module failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
        await onResult(r as R, index++, logicalOffset, chunk.length);
      },
    };
    try {
      await runMode(p.mode, ctx);
    } finally {
      mod.teardown?.();
    }
  }
  checkAborted(options.signal);
  return result(p, options);
}

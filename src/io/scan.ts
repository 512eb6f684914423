/**
 * Bulk reads: every read-heavy path (cat, cp out, fsck's scan, the MFT index, bench)
 * reads a list of extents through `scanExtents`, in the read mode the user chose.
 * The consumer sees the bytes in logical order, chunk by chunk.
 *
 * This first version implements `streaming` only; the other modes (prefetch,
 * pipelined, parallel, mmap, auto) plug in behind the same call.
 */
import type { BlockSource } from './block-source.js';
import type { Extent } from '../engine/volume.js';

export const READ_MODES = ['streaming', 'prefetch', 'pipelined', 'parallel', 'mmap', 'auto'] as const;
export type ReadMode = (typeof READ_MODES)[number];

export interface ScanOptions {
  mode?: ReadMode;
  /** Bytes per chunk; each mode has its own default. */
  chunkSize?: number;
  /** Queue depth for pipelined/prefetch. */
  depth?: number;
  /** Worker count for parallel. */
  workers?: number;
  /** Called after each chunk with the bytes done so far (for progress bars). */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  signal?: AbortSignal;
}

/**
 * Called with each chunk in logical order. `chunk` is only valid during the call
 * (its buffer is reused); `logicalOffset` is the chunk's offset within the
 * concatenation of the extents. May return a promise (e.g. to wait for a drained
 * output stream); the scan waits for it.
 */
export type ChunkConsumer = (chunk: Uint8Array, logicalOffset: number) => void | Promise<void>;

export interface ScanResult {
  mode: ReadMode;
  bytes: number;
  chunks: number;
  chunkSize: number;
}

export const DEFAULT_CHUNK_SIZE = 1 << 20;

export async function scanExtents(source: BlockSource, extents: readonly Extent[], consume: ChunkConsumer, options: ScanOptions = {}): Promise<ScanResult> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const total = extents.reduce((sum, e) => sum + e.length, 0);
  const buf = Buffer.allocUnsafe(Math.min(chunkSize, Math.max(total, 1)));
  let logical = 0;
  let chunks = 0;
  for (const extent of extents) {
    let done = 0;
    while (done < extent.length) {
      options.signal?.throwIfAborted();
      const n = Math.min(buf.length, extent.length - done);
      source.readAt(buf, 0, n, extent.position + done);
      await consume(buf.subarray(0, n), logical);
      done += n;
      logical += n;
      chunks++;
      options.onProgress?.(logical, total);
    }
  }
  return { mode: 'streaming', bytes: logical, chunks, chunkSize };
}

/**
 * Writing a file's bytes into clusters already allocated for it. Each contiguous
 * run is written with one call when the data is in memory; data from a
 * FileDataSource is streamed through one bounded buffer, so a 1 GiB file never sits
 * in memory (one write call per buffer-full, runs never split otherwise).
 */
import type { BlockSource } from '../../io/block-source.js';
import type { FileDataSource } from '../volume.js';
import type { DataWriteBatch } from './data-write-batch.js';
import type { ClusterRun, FatTable } from './fat-table.js';

/**
 * Streaming buffer size: large enough that a read and a write call cost little per byte,
 * small enough to stay in the core's cache between them (1 MiB took less CPU than 8 MiB
 * or 256 KiB copying 1 GiB in).
 */
export const STREAM_CHUNK_BYTES = 1024 * 1024;
/** In-memory data is written in slices of this size when progress is reported. */
const PROGRESS_SLICE_BYTES = 64 * 1024 * 1024;

export function isFileDataSource(data: Uint8Array | FileDataSource): data is FileDataSource {
  return !(data instanceof Uint8Array);
}

/**
 * Writes `data` (its whole size) into `runs`, in order; calls `onProgress` with bytes
 * written so far. In-memory data goes through `batch` when given (data-write-batch.ts).
 */
export function writeFileData(
  source: BlockSource,
  fat: FatTable,
  clusterBytes: number,
  runs: readonly ClusterRun[],
  data: Uint8Array | FileDataSource,
  onProgress?: (bytes: number) => void,
  batch?: DataWriteBatch,
): void {
  const size = isFileDataSource(data) ? data.size : data.length;
  let done = 0;
  let buffer: Uint8Array | null = null;
  for (const run of runs) {
    if (done >= size) break;
    const length = Math.min(size - done, run.count * clusterBytes);
    const position = fat.clusterPosition(run.start);
    if (!isFileDataSource(data)) {
      // One call per run; with a progress callback, slices so a bar can move.
      const slice = onProgress ? PROGRESS_SLICE_BYTES : length;
      for (let at = 0; at < length; at += slice) {
        const n = Math.min(slice, length - at);
        // The end of the run pads to its cluster boundary in a batch (see DataWriteBatch.write).
        if (batch) batch.write(data, done, n, position + at, at + n === length ? run.count * clusterBytes - length : 0);
        else source.writeAt(data, done, n, position + at);
        done += n;
        onProgress?.(done);
      }
      continue;
    }
    buffer ??= new Uint8Array(Math.min(STREAM_CHUNK_BYTES, Math.max(size, 1)));
    for (let at = 0; at < length; ) {
      const n = Math.min(buffer.length, length - at);
      data.read(buffer, n, done);
      if (batch) batch.write(buffer, 0, n, position + at, at + n === length ? run.count * clusterBytes - length : 0);
      else source.writeAt(buffer, 0, n, position + at);
      at += n;
      done += n;
      onProgress?.(done);
    }
  }
}

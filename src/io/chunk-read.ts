/**
 * Reading one planned chunk into a buffer: synchronously through the BlockSource,
 * or asynchronously with fs.read on the source's file descriptor (libuv thread pool;
 * UV_THREADPOOL_SIZE, default 4, caps how many run at once).
 */
import { read, readSync } from 'node:fs';
import { DiskkitError, ErrorCode, fromSystemError } from '../engine/errors.js';
import type { BlockSource } from './block-source.js';
import type { PlannedChunk } from './chunk-plan.js';

/**
 * Reads the chunk's pieces into `buf[0..chunk.length)`; returns the number of read calls.
 * A source with a file descriptor is read through it directly, one pread per piece
 * (pieces are merged where they touch on disk): a fragmented file's chunk holds hundreds
 * of pieces, and the source's readAt per piece (its checks, its counters) cost more than
 * the system call. scan.ts checked every extent against the source's size before the scan.
 */
export function readChunkSync(source: BlockSource, chunk: PlannedChunk, buf: Uint8Array): number {
  const fd = source.fd;
  if (fd === undefined) {
    const before = source.counters.readCalls;
    let offset = 0;
    for (const piece of chunk.pieces) {
      source.readAt(buf, offset, piece.length, piece.position);
      offset += piece.length;
    }
    return Math.max(source.counters.readCalls - before, chunk.pieces.length);
  }
  const base = source.baseOffset;
  const pieces = chunk.pieces;
  let calls = 0;
  let offset = 0;
  for (let i = 0; i < pieces.length; i++) {
    const { position, length } = pieces[i]!;
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = readSync(fd, buf, offset + done, length - done, base + position + done);
      } catch (error) {
        throw fromSystemError(error, source.name, 'read image');
      }
      calls++;
      if (n === 0) throw pastEnd(source, position, length, done);
      done += n;
    }
    offset += length;
  }
  source.counters.readCalls += calls;
  source.counters.bytesRead += chunk.length;
  return calls;
}

function pastEnd(source: BlockSource, position: number, length: number, done: number): DiskkitError {
  return new DiskkitError(ErrorCode.SHORT_READ, `image ends before byte ${position + length} (read stopped at ${position + done})`, {
    context: { image: source.name, position, length },
  });
}

function readOnce(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, offset, length, position, (error, n) => (error ? reject(error) : resolve(n)));
  });
}

/** Whether the source can be read asynchronously (it has a file descriptor). */
export function canReadAsync(source: BlockSource): boolean {
  return source.fd !== undefined;
}

/** Asynchronous counterpart of readChunkSync; falls back to sync reads for sources without an fd (memory). */
export async function readChunkAsync(source: BlockSource, chunk: PlannedChunk, buf: Uint8Array): Promise<number> {
  if (source.fd === undefined) return readChunkSync(source, chunk, buf);
  const fd = source.fd;
  let calls = 0;
  let offset = 0;
  for (const piece of chunk.pieces) {
    let done = 0;
    while (done < piece.length) {
      let n: number;
      try {
        n = await readOnce(fd, buf, offset + done, piece.length - done, source.baseOffset + piece.position + done);
      } catch (error) {
        throw fromSystemError(error, source.name, 'read image');
      }
      calls++;
      if (n === 0) throw pastEnd(source, piece.position, piece.length, done);
      done += n;
    }
    offset += piece.length;
  }
  source.counters.readCalls += calls;
  source.counters.bytesRead += chunk.length;
  return calls;
}

export function cancelledError(): DiskkitError {
  return new DiskkitError(ErrorCode.CANCELLED, 'interrupted');
}

/** Throws E_CANCELLED when the signal fired. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}

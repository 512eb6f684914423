/**
 * Reading one planned chunk into a buffer: synchronously through the BlockSource,
 * or asynchronously with fs.read on the source's file descriptor (libuv thread pool;
 * UV_THREADPOOL_SIZE, default 4, caps how many run at once).
 */
import { read } from 'node:fs';
import { DiskkitError, ErrorCode, fromSystemError } from '../engine/errors.js';
import type { BlockSource } from './block-source.js';
import type { PlannedChunk } from './chunk-plan.js';

/** Reads the chunk's pieces into `buf[0..chunk.length)`; returns the number of read calls. */
export function readChunkSync(source: BlockSource, chunk: PlannedChunk, buf: Uint8Array): number {
  const before = source.counters.readCalls;
  let offset = 0;
  for (const piece of chunk.pieces) {
    source.readAt(buf, offset, piece.length, piece.position);
    offset += piece.length;
  }
  return Math.max(source.counters.readCalls - before, chunk.pieces.length);
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
      if (n === 0) {
        throw new DiskkitError(ErrorCode.SHORT_READ, `image ends before byte ${piece.position + piece.length} (read stopped at ${piece.position + done})`, {
          context: { image: source.name, position: piece.position, length: piece.length },
        });
      }
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

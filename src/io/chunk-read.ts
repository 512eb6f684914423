/**
 * Reading one planned chunk into a buffer: synchronously through the BlockSource,
 * or asynchronously with fs.read on the source's file descriptor (libuv thread pool;
 * UV_THREADPOOL_SIZE, default 4, caps how many run at once).
 */
import { read, readSync } from 'node:fs';
import { DiskkitError, ErrorCode, fromSystemError } from '../engine/errors.js';
import type { BlockSource } from './block-source.js';
import type { PlannedChunk } from './chunk-plan.js';
import { readPiecesSync, returnStaging, scatterSpan, spanEnd, spanLength, takeStaging } from './read-spans.js';

/**
 * Reads the chunk's pieces into `buf[0..chunk.length)`; returns the number of read calls.
 * A source with a file descriptor is read through it directly (pieces are merged where
 * they touch on disk, and pieces close together read as one span: read-spans.ts): a
 * fragmented file's chunk holds hundreds of pieces, and the source's readAt per piece
 * (its checks, its counters) cost more than the system call. scan.ts checked every
 * extent against the source's size before the scan.
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
  let calls: number;
  try {
    calls = readPiecesSync(fd, source.baseOffset, chunk.pieces, buf, (position, length, done) => pastEnd(source, position, length, done));
  } catch (error) {
    if (error instanceof DiskkitError) throw error;
    throw fromSystemError(error, source.name, 'read image');
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

/** Whether the source can be read asynchronously (it has a file descriptor). */
export function canReadAsync(source: BlockSource): boolean {
  return source.fd !== undefined;
}

/**
 * Reads of one chunk's pieces in flight at once: libuv's default thread pool (more would
 * only queue). A fragmented file's chunk holds hundreds of pieces: one read after the
 * other, each a round trip through the pool, made such a chunk hundreds of times slower
 * than a contiguous one.
 */
const PIECE_LANES = 4;

/** Asynchronous counterpart of readChunkSync; falls back to sync reads for sources without an fd (memory). */
export async function readChunkAsync(source: BlockSource, chunk: PlannedChunk, buf: Uint8Array): Promise<number> {
  if (source.fd === undefined) return readChunkSync(source, chunk, buf);
  const calls = await readPiecesAsync(source, source.fd, chunk, buf);
  source.counters.readCalls += calls;
  source.counters.bytesRead += chunk.length;
  return calls;
}

/**
 * The chunk's spans (read-spans.ts: a piece, or pieces close together on disk read as one)
 * read with fs.read on up to PIECE_LANES lanes, each lane starting the next unread span
 * when its read completes: one promise per chunk, none per piece. A span of several
 * pieces is read into a staging buffer of its own and copied out when it completes. On
 * an error no new read starts, and the promise rejects once the reads in flight have
 * ended (none writes into the buffer after the caller gets it back). Resolves to the
 * read calls made.
 */
function readPiecesAsync(source: BlockSource, fd: number, chunk: PlannedChunk, buf: Uint8Array): Promise<number> {
  const pieces = chunk.pieces;
  const base = source.baseOffset;
  return new Promise((resolve, reject) => {
    let next = 0;
    let nextOffset = 0;
    let active = 0;
    let calls = 0;
    let failure: unknown = null;
    const finish = (): void => {
      if (active > 0) return;
      if (failure !== null) reject(failure);
      else if (next === pieces.length) resolve(calls);
    };
    // Reads [position, position+length) into target[at..]; then `landed` (copy-out of a span) runs.
    const readInto = (target: Uint8Array, position: number, length: number, at: number, done: number, landed: (() => void) | null): void => {
      read(fd, target, at + done, length - done, base + position + done, (error, n) => {
        calls++;
        if (failure === null && error) failure = fromSystemError(error, source.name, 'read image');
        else if (failure === null && n === 0) failure = pastEnd(source, position, length, done);
        else if (failure === null && done + n < length) return readInto(target, position, length, at, done + n, landed);
        active--;
        landed?.();
        if (failure === null) startNext();
        finish();
      });
    };
    const startNext = (): void => {
      if (next === pieces.length) return;
      const first = next;
      const end = spanEnd(pieces, first);
      next = end;
      const at = nextOffset;
      const length = spanLength(pieces, first, end);
      active++;
      if (end === first + 1) {
        nextOffset += length;
        readInto(buf, pieces[first]!.position, length, at, 0, null);
        return;
      }
      for (let k = first; k < end; k++) nextOffset += pieces[k]!.length;
      const staging = takeStaging();
      readInto(staging, pieces[first]!.position, length, 0, 0, () => {
        if (failure === null) scatterSpan(pieces, first, end, staging, buf, at);
        returnStaging(staging);
      });
    };
    for (let lane = 0; lane < PIECE_LANES; lane++) startNext();
    finish();
  });
}

export function cancelledError(): DiskkitError {
  return new DiskkitError(ErrorCode.CANCELLED, 'interrupted');
}

/** Throws E_CANCELLED when the signal fired. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}

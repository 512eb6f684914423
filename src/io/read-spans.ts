/**
 * Fewer, larger reads for a fragmented chunk: consecutive pieces that lie close
 * together on the volume (a file whose clusters are interleaved with another file's,
 * which is what fragmentation usually looks like) are read with one pread of the span
 * covering them, into a staging buffer, and copied out piece by piece.
 *
 * The gap rule keeps the bytes read over bounded: a piece joins the span before it only
 * when it starts after that span ends (never backwards, never overlapping), the gap
 * between them is at most SPAN_MAX_GAP, the span stays within SPAN_MAX_BYTES (the staging
 * buffer), and the bytes read over (gaps) never exceed the bytes wanted. A file whose
 * runs lie far apart still reads run by run. Only positions of pieces the scan already
 * checked against the source's size are read (a span lies between two of them).
 */
import { readSync } from 'node:fs';
import type { ChunkPiece } from './chunk-plan.js';

/** Largest gap between two pieces read through (a few clusters of another file). */
export const SPAN_MAX_GAP = 64 << 10;
/** Largest span read with one pread (the staging buffer's size). */
export const SPAN_MAX_BYTES = 256 << 10;

/**
 * The exclusive end of the span of pieces starting at `first`: pieces [first, end) are
 * read with one pread of [pieces[first].position, pieces[end-1].position + length).
 * `end === first + 1` means the piece is read on its own, straight into place.
 */
export function spanEnd(pieces: readonly ChunkPiece[], first: number): number {
  const start = pieces[first]!.position;
  let end = start + pieces[first]!.length;
  let wanted = pieces[first]!.length;
  let j = first + 1;
  for (; j < pieces.length; j++) {
    const p = pieces[j]!;
    const gap = p.position - end;
    if (gap < 0 || gap > SPAN_MAX_GAP) break;
    const nextEnd = p.position + p.length;
    if (nextEnd - start > SPAN_MAX_BYTES) break;
    const nextWanted = wanted + p.length;
    if (nextEnd - start - nextWanted > nextWanted) break;
    end = nextEnd;
    wanted = nextWanted;
  }
  return j;
}

/** The span's byte length on the volume (pieces [first, end) as spanEnd grouped them). */
export function spanLength(pieces: readonly ChunkPiece[], first: number, end: number): number {
  const last = pieces[end - 1]!;
  return last.position + last.length - pieces[first]!.position;
}

/** Copies pieces [first, end) out of `staging` (holding their span) into `buf` from `offset`; returns the offset after them. */
export function scatterSpan(pieces: readonly ChunkPiece[], first: number, end: number, staging: Uint8Array, buf: Uint8Array, offset: number): number {
  const start = pieces[first]!.position;
  for (let k = first; k < end; k++) {
    const p = pieces[k]!;
    const from = p.position - start;
    buf.set(staging.subarray(from, from + p.length), offset);
    offset += p.length;
  }
  return offset;
}

/** Staging buffers not in use (async reads take one per span in flight; a few are kept). */
const idleStaging: Uint8Array[] = [];
const KEEP_STAGING = 8;

export function takeStaging(): Uint8Array {
  return idleStaging.pop() ?? new Uint8Array(SPAN_MAX_BYTES);
}

export function returnStaging(staging: Uint8Array): void {
  if (idleStaging.length < KEEP_STAGING) idleStaging.push(staging);
}

/**
 * Reads `pieces` from `fd` (at `base` + position) into `buf` in order, spans as spanEnd
 * groups them; returns the read calls made. A read that returns 0 bytes throws what
 * `pastEnd(position, length, done)` makes; system errors propagate as Node raised them.
 * Synchronous, so one staging buffer serves every span.
 */
export function readPiecesSync(fd: number, base: number, pieces: readonly ChunkPiece[], buf: Uint8Array, pastEnd: (position: number, length: number, done: number) => Error): number {
  let calls = 0;
  let offset = 0;
  let staging: Uint8Array | null = null;
  try {
    for (let i = 0; i < pieces.length; ) {
      const end = spanEnd(pieces, i);
      if (end === i + 1) {
        calls += preadFully(fd, buf, offset, pieces[i]!.length, base, pieces[i]!.position, pastEnd);
        offset += pieces[i]!.length;
      } else {
        staging ??= takeStaging();
        calls += preadFully(fd, staging, 0, spanLength(pieces, i, end), base, pieces[i]!.position, pastEnd);
        offset = scatterSpan(pieces, i, end, staging, buf, offset);
      }
      i = end;
    }
  } finally {
    if (staging !== null) returnStaging(staging);
  }
  return calls;
}

function preadFully(fd: number, buf: Uint8Array, offset: number, length: number, base: number, position: number, pastEnd: (position: number, length: number, done: number) => Error): number {
  let calls = 0;
  for (let done = 0; done < length; ) {
    const n = readSync(fd, buf, offset + done, length - done, base + position + done);
    calls++;
    if (n === 0) throw pastEnd(position, length, done);
    done += n;
  }
  return calls;
}

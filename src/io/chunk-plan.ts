/**
 * Cuts a list of extents into the chunks a scan reads. A chunk holds up to
 * `chunkSize` bytes in logical order and may gather several extents (a fragmented
 * FAT file becomes few large chunks instead of many cluster-sized reads); extents
 * that touch on disk are merged into one piece, so they cost one read call.
 */
import { DiskkitError, ErrorCode } from '../engine/errors.js';
import type { Extent } from '../engine/volume.js';

/** One positional read inside a chunk: `length` bytes at `position` of the source. */
export interface ChunkPiece {
  position: number;
  length: number;
}

export interface PlannedChunk {
  /** 0-based, in logical order. */
  index: number;
  /** Offset of the chunk's first byte within the concatenation of the extents. */
  logicalOffset: number;
  length: number;
  pieces: ChunkPiece[];
}

/**
 * Checks every extent against the source size before any byte is read, so that every
 * read mode fails the same way (E_SHORT_READ) on a past-end extent, with no partial output.
 */
export function validateExtents(name: string, size: number, extents: readonly Extent[]): number {
  let total = 0;
  for (const e of extents) {
    if (!Number.isSafeInteger(e.position) || !Number.isSafeInteger(e.length) || e.position < 0 || e.length < 0) {
      throw new DiskkitError(ErrorCode.SHORT_READ, `invalid extent (position ${e.position}, length ${e.length})`, {
        context: { image: name, position: e.position, length: e.length },
      });
    }
    if (e.position + e.length > size) {
      throw new DiskkitError(ErrorCode.SHORT_READ, `image ends before byte ${e.position + e.length} (it has ${size} bytes)`, {
        context: { image: name, position: e.position, length: e.length, size },
      });
    }
    total += e.length;
  }
  return total;
}

/** Hands out the chunks one at a time: a plan for a 100 GB scan is never held in memory. */
export class ChunkPlanner {
  private extentIndex = 0;
  private extentDone = 0;
  private nextIndex = 0;
  private logical = 0;

  constructor(
    private readonly extents: readonly Extent[],
    readonly chunkSize: number,
  ) {}

  get chunksIssued(): number {
    return this.nextIndex;
  }

  next(): PlannedChunk | null {
    const pieces: ChunkPiece[] = [];
    let length = 0;
    while (length < this.chunkSize && this.extentIndex < this.extents.length) {
      const extent = this.extents[this.extentIndex]!;
      const left = extent.length - this.extentDone;
      if (left <= 0) {
        this.extentIndex++;
        this.extentDone = 0;
        continue;
      }
      const n = Math.min(left, this.chunkSize - length);
      const position = extent.position + this.extentDone;
      const last = pieces[pieces.length - 1];
      if (last && last.position + last.length === position) last.length += n;
      else pieces.push({ position, length: n });
      length += n;
      this.extentDone += n;
    }
    if (length === 0) return null;
    const chunk = { index: this.nextIndex++, logicalOffset: this.logical, length, pieces };
    this.logical += length;
    return chunk;
  }
}

/** Rounds the chunk size down to a multiple of `align` (records never straddle chunks). */
export function alignChunkSize(chunkSize: number, align: number): number {
  if (align <= 1) return chunkSize;
  const aligned = Math.floor(chunkSize / align) * align;
  if (aligned === 0) {
    throw new DiskkitError(ErrorCode.USAGE, `chunk size ${chunkSize} is smaller than the record size ${align}`, { context: { chunkSize, align } });
  }
  return aligned;
}

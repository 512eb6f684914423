/**
 * Reads MFT records of a volume by number, through the MFT's extents (the MFT may be
 * fragmented: mft-source.ts located it). Records are read a block at a time and the
 * last few blocks are cached, because a directory's children are usually close to
 * each other in the MFT, and a listing reads one record per entry.
 */
import type { BlockSource } from '../../io/block-source.js';
import type { Extent } from '../volume.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import type { MftLayout } from './mft-source.js';
import { decodeRecord, type DecodedRecord } from './record-decoder.js';

/** Records read (and cached) together. */
const RECORDS_PER_BLOCK = 64;
/** Cached blocks (64 × 64 records of 1 KiB = 4 MiB at most). */
const CACHED_BLOCKS = 64;

export class RecordReader {
  readonly recordSize: number;
  readonly recordCount: number;
  private readonly source: BlockSource;
  private readonly extents: readonly Extent[];
  private readonly starts: Float64Array;
  private readonly clusterCount: number;
  private readonly blocks = new Map<number, Uint8Array>();

  constructor(layout: MftLayout) {
    this.source = layout.source;
    this.recordSize = layout.recordSize;
    this.recordCount = layout.recordCount;
    this.extents = layout.extents;
    this.clusterCount = layout.clusterCount;
    this.starts = new Float64Array(layout.extents.length);
    let at = 0;
    layout.extents.forEach((e, i) => {
      this.starts[i] = at;
      at += e.length;
    });
  }

  /** The raw bytes of record `n` (fixups not applied; a fresh copy the caller may change). */
  raw(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.recordCount) {
      throw new DiskkitError(ErrorCode.BAD_RECORD, `MFT record ${n} does not exist (the MFT has ${this.recordCount})`, { context: { record: n } });
    }
    const blockNo = Math.floor(n / RECORDS_PER_BLOCK);
    let block = this.blocks.get(blockNo);
    if (block) {
      // Most recently used goes last.
      this.blocks.delete(blockNo);
      this.blocks.set(blockNo, block);
    } else {
      block = this.readBlock(blockNo);
      if (this.blocks.size >= CACHED_BLOCKS) this.blocks.delete(this.blocks.keys().next().value!);
      this.blocks.set(blockNo, block);
    }
    const at = (n - blockNo * RECORDS_PER_BLOCK) * this.recordSize;
    return block.slice(at, at + this.recordSize);
  }

  /** Record `n` decoded (fixups applied); E_BAD_RECORD when it is not a usable FILE record. */
  read(n: number): DecodedRecord {
    return decodeRecord(this.raw(n), this.clusterCount, n);
  }

  private readBlock(blockNo: number): Uint8Array {
    const first = blockNo * RECORDS_PER_BLOCK;
    const count = Math.min(RECORDS_PER_BLOCK, this.recordCount - first);
    const out = new Uint8Array(count * this.recordSize);
    let logical = first * this.recordSize;
    let done = 0;
    // Binary search for the extent holding the first byte, then walk on.
    let lo = 0;
    let hi = this.extents.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= logical) lo = mid;
      else hi = mid - 1;
    }
    for (let i = lo; done < out.length && i < this.extents.length; i++) {
      const e = this.extents[i]!;
      const within = logical - this.starts[i]!;
      const n = Math.min(out.length - done, e.length - within);
      if (n <= 0) continue;
      if (e.position + within + n > this.source.size) {
        throw new DiskkitError(ErrorCode.TRUNCATED, `MFT records ${first}.. lie past the end of the image`, { context: { record: first } });
      }
      this.source.readAt(out, done, n, e.position + within);
      done += n;
      logical += n;
    }
    return out;
  }
}

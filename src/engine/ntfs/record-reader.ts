/**
 * Reads MFT records of a volume by number, through the MFT's extents (the MFT may be
 * fragmented: mft-source.ts located it). Records are read a block at a time, their
 * fixups applied once, and the last few blocks are cached, because a directory's
 * children are usually close to each other in the MFT, and a listing reads one
 * record per entry. `summary` reads what a listing needs straight from the cached
 * block, without decoding the record into objects.
 */
import type { BlockSource } from '../../io/block-source.js';
import type { Extent } from '../volume.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import type { MftLayout } from './mft-source.js';
import { decodeAttribute, decodeRecord, type DecodedAttribute, type DecodedRecord } from './record-decoder.js';
import { MIN_NON_RESIDENT_LENGTH, MIN_RESIDENT_LENGTH } from './attributes/attribute-header.js';
import { checkDataRuns, RunCheck } from './data-runs.js';
import { applyFixups, FixupStatus } from './fixup.js';
import { SIGNATURE_FILE, RecordFlag } from './mft-record.js';
import { filetimeMsAt } from './filetime.js';

/** Records read (and cached) together. */
const RECORDS_PER_BLOCK = 64;
/** Cached blocks (64 × 64 records of 1 KiB = 4 MiB at most). */
const CACHED_BLOCKS = 64;

interface CachedBlock {
  bytes: Uint8Array;
  view: DataView;
  /** Fixup status per record (FixupStatus), 255 for a record without a FILE signature. */
  fixups: Uint8Array;
}

/** What a listing shows of a record, read in place (see RecordReader.summary). */
export interface RecordSummary {
  inUse: boolean;
  isDirectory: boolean;
  fileAttributes: number;
  createdMs: number;
  modifiedMs: number;
  accessedMs: number;
  /** Size of the unnamed $DATA (0 when it has none). */
  size: number;
}

export class RecordReader {
  readonly recordSize: number;
  readonly recordCount: number;
  private readonly source: BlockSource;
  private readonly extents: readonly Extent[];
  private readonly starts: Float64Array;
  private readonly clusterCount: number;
  private readonly blocks = new Map<number, CachedBlock>();
  private lastBlockNo = -1;
  private lastBlock: CachedBlock | null = null;

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

  /** The bytes of record `n`, fixups applied (a fresh copy the caller may change). */
  raw(n: number): Uint8Array {
    const block = this.block(n);
    const at = (n % RECORDS_PER_BLOCK) * this.recordSize;
    return block.bytes.slice(at, at + this.recordSize);
  }

  /** Record `n`'s fixup status (FixupStatus), or 255 when it has no FILE signature (unused, garbage). */
  status(n: number): number {
    return this.block(n).fixups[n % RECORDS_PER_BLOCK]!;
  }

  /** Record `n` decoded; E_BAD_RECORD when it is not a usable FILE record. */
  read(n: number): DecodedRecord {
    const block = this.block(n);
    const at = (n % RECORDS_PER_BLOCK) * this.recordSize;
    const status = block.fixups[n % RECORDS_PER_BLOCK]!;
    return decodeRecord(block.bytes.slice(at, at + this.recordSize), this.clusterCount, n, status === 255 ? undefined : status);
  }

  /**
   * A listing's view of record `n`, read in place: null when the record needs the full
   * decoder (not a clean FILE record, an $ATTRIBUTE_LIST, anything out of bounds), so
   * callers fall back to read(). Returns the same object every call.
   */
  summary(n: number, out: RecordSummary): RecordSummary | null {
    const block = this.block(n);
    if (block.fixups[n % RECORDS_PER_BLOCK] !== FixupStatus.OK) return null;
    const buf = block.bytes;
    const dv = block.view;
    const base = (n % RECORDS_PER_BLOCK) * this.recordSize;
    const flags = dv.getUint16(base + 0x16, true);
    if (dv.getUint32(base + 0x20, true) !== 0 || dv.getUint16(base + 0x24, true) !== 0) return null;
    const end = base + Math.min(dv.getUint32(base + 0x18, true), this.recordSize);
    out.inUse = (flags & RecordFlag.IN_USE) !== 0;
    out.isDirectory = (flags & RecordFlag.DIRECTORY) !== 0;
    out.fileAttributes = 0;
    out.createdMs = NaN;
    out.modifiedMs = NaN;
    out.accessedMs = NaN;
    out.size = 0;
    let p = base + dv.getUint16(base + 0x14, true);
    while (p + 8 <= end) {
      const type = dv.getUint32(p, true);
      if (type === 0xffffffff) return out;
      const length = dv.getUint32(p + 4, true);
      if (length < 0x18 || p + length > end) return null;
      const nonResident = buf[p + 8]!;
      if (type === 0x20) return null;
      if (type === 0x10 && nonResident === 0) {
        const valueLength = dv.getUint32(p + 0x10, true);
        const v = p + dv.getUint16(p + 0x14, true);
        if (valueLength < 0x24 || v + valueLength > p + length) return null;
        out.createdMs = filetimeMsAt(dv, v);
        out.modifiedMs = filetimeMsAt(dv, v + 0x08);
        out.accessedMs = filetimeMsAt(dv, v + 0x18);
        out.fileAttributes = dv.getUint32(v + 0x20, true);
      } else if (type === 0x80 && buf[p + 9] === 0) {
        if (nonResident === 0) out.size = dv.getUint32(p + 0x10, true);
        else {
          if (length < 0x40) return null;
          if (dv.getUint32(p + 0x10, true) === 0 && dv.getUint32(p + 0x14, true) === 0) {
            out.size = dv.getUint32(p + 0x34, true) * 4294967296 + dv.getUint32(p + 0x30, true);
          }
        }
      }
      p += length;
    }
    return null;
  }

  /**
   * The unnamed $DATA of plain file record `n` as one attribute piece, read in place
   * (cp -r opens thousands of small files; the full decoder's objects per record were
   * a fifth of that). Null whenever the full decoder must decide: not a clean base FILE
   * record, a directory, an $ATTRIBUTE_LIST, no unnamed $DATA or more than one piece
   * of it, or any attribute the decoder would reject (it then throws its own error).
   */
  unnamedData(n: number): DecodedAttribute | null {
    const block = this.block(n);
    if (block.fixups[n % RECORDS_PER_BLOCK] !== FixupStatus.OK) return null;
    const buf = block.bytes;
    const dv = block.view;
    const base = (n % RECORDS_PER_BLOCK) * this.recordSize;
    if ((dv.getUint16(base + 0x16, true) & RecordFlag.DIRECTORY) !== 0) return null;
    if (dv.getUint32(base + 0x20, true) !== 0 || dv.getUint16(base + 0x24, true) !== 0) return null;
    const end = base + Math.min(dv.getUint32(base + 0x18, true), this.recordSize);
    let found: DecodedAttribute | null = null;
    let p = base + dv.getUint16(base + 0x14, true);
    while (p + 8 <= end) {
      const type = dv.getUint32(p, true);
      if (type === 0xffffffff) return found;
      const length = dv.getUint32(p + 4, true);
      if (length < MIN_RESIDENT_LENGTH || p + length > end || type === 0x20) return null;
      const nameLength = buf[p + 9]!;
      if (nameLength > 0 && dv.getUint16(p + 0x0a, true) + 2 * nameLength > length) return null;
      const nonResident = buf[p + 8] !== 0;
      if (!nonResident) {
        if (dv.getUint16(p + 0x14, true) + dv.getUint32(p + 0x10, true) > length) return null;
      } else {
        const runsOffset = dv.getUint16(p + 0x20, true);
        if (length < MIN_NON_RESIDENT_LENGTH || runsOffset < MIN_NON_RESIDENT_LENGTH || runsOffset > length) return null;
        if (checkDataRuns(buf, p + runsOffset, p + length, this.clusterCount) !== RunCheck.OK) return null;
      }
      if (type === 0x80 && nameLength === 0) {
        if (found !== null) return null;
        // The decoder's own attribute decoding, on this one attribute's bytes.
        found = decodeAttribute(buf.subarray(p, p + length), this.clusterCount, n, p - base);
      }
      p += length;
    }
    return null;
  }

  private block(n: number): CachedBlock {
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.recordCount) {
      throw new DiskkitError(ErrorCode.BAD_RECORD, `MFT record ${n} does not exist (the MFT has ${this.recordCount})`, { context: { record: n } });
    }
    const blockNo = Math.floor(n / RECORDS_PER_BLOCK);
    // The block of the last call is already the most recently used: no reordering (a
    // listing asks for the same block dozens of times in a row).
    if (blockNo === this.lastBlockNo) return this.lastBlock!;
    let block = this.blocks.get(blockNo);
    if (block) {
      // Most recently used goes last.
      this.blocks.delete(blockNo);
      this.blocks.set(blockNo, block);
      this.lastBlockNo = blockNo;
      this.lastBlock = block;
      return block;
    }
    // The evicted block's memory is reused: a listing of the whole tree reads the whole
    // MFT, and a fresh 64 KiB per block (zeroed, page-faulted in) showed in profiles.
    let spare: CachedBlock | undefined;
    if (this.blocks.size >= CACHED_BLOCKS) {
      const oldest = this.blocks.keys().next().value!;
      spare = this.blocks.get(oldest);
      this.blocks.delete(oldest);
    }
    block = this.readBlock(blockNo, spare);
    this.blocks.set(blockNo, block);
    this.lastBlockNo = blockNo;
    this.lastBlock = block;
    return block;
  }

  private readBlock(blockNo: number, spare: CachedBlock | undefined): CachedBlock {
    const first = blockNo * RECORDS_PER_BLOCK;
    const count = Math.min(RECORDS_PER_BLOCK, this.recordCount - first);
    // Every byte is read below (or E_TRUNCATED), so a reused buffer needs no clearing.
    const out = spare !== undefined && spare.bytes.length === count * this.recordSize ? spare.bytes : new Uint8Array(count * this.recordSize);
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
    // Records past the MFT's runs read as zeros (no FILE signature: unused), as in a fresh buffer.
    if (done < out.length) out.fill(0, done);
    const view = out === spare?.bytes ? spare.view : new DataView(out.buffer, out.byteOffset, out.byteLength);
    const fixups = out === spare?.bytes ? spare.fixups.fill(255) : new Uint8Array(count).fill(255);
    for (let r = 0; r < count; r++) {
      const at = r * this.recordSize;
      if (view.getUint32(at, true) !== SIGNATURE_FILE) continue;
      fixups[r] = applyFixups(out, at, this.recordSize, view.getUint16(at + 4, true), view.getUint16(at + 6, true));
    }
    return { bytes: out, view, fixups };
  }
}

/**
 * The index's variable-length parts — $FILE_NAME attributes and named streams — as
 * one list of columns with a UTF-16 character pool, in shared memory. Several parse
 * threads append to the same list without locks and without copying: each claims
 * whole blocks of entries and of characters from shared counters (Atomics) and fills
 * them alone. The columns are growable SharedArrayBuffers reserved up to a bound
 * that no MFT of this size can exceed, so a claim never fails and memory is
 * committed only as entries are written.
 *
 * Entry numbers are therefore in claim order, not record order; the parse reports,
 * per chunk, the entry ranges it filled (`takeRanges`), and grouping in chunk order
 * (name-groups.ts) gives every read mode the same per-record order.
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import { zeroedForReuse } from './zeroed-reuse.js';

/** `owner` of an entry that holds nothing (unused block tails, entries of a record found corrupt). */
export const NO_OWNER = 0xffffffff;

/**
 * The smallest attribute that adds an entry is 0x18 bytes (a resident header, with
 * the 8-byte alignment the parser enforces), so a record of `recordSize` bytes adds
 * fewer than recordSize / 24 entries; its names are inside it, so fewer than
 * recordSize / 2 characters.
 */
export function entriesPerRecordBound(recordSize: number): number {
  return Math.ceil(recordSize / 24);
}

/** Largest growable SharedArrayBuffer V8 allows. */
const MAX_COLUMN_BYTES = 2 ** 32;

const ENTRY_COLUMNS = [
  ['owner', Uint32Array, 1],
  ['parent', Float64Array, 1],
  ['parentSequence', Uint16Array, 1],
  ['namespace', Uint8Array, 1],
  ['times', Uint32Array, 8],
  ['charStart', Uint32Array, 1],
  ['charLength', Uint16Array, 1],
  ['attributeId', Uint16Array, 1],
] as const;

type EntryColumnName = (typeof ENTRY_COLUMNS)[number][0];
const BYTES_PER_ENTRY = ENTRY_COLUMNS.reduce((sum, [, Type, per]) => sum + Type.BYTES_PER_ELEMENT * per, 0);

/** What a thread needs to append to (or read) a list made elsewhere: posted to workers as is. */
export interface NameListShare {
  entryBuffers: SharedArrayBuffer[];
  chars: SharedArrayBuffer;
  /** Int32 [entry blocks claimed, character blocks claimed]. */
  counters: SharedArrayBuffer;
  entryBlock: number;
  charBlock: number;
  /** Per-record bounds: a record's entries never straddle two blocks. */
  recordEntries: number;
  recordChars: number;
  maxEntries: number;
  maxChars: number;
}

/**
 * A finished list's column buffers, handed to the next list built in this process
 * (index-memory.ts): `entries` and `chars` bound what was written in them.
 */
export interface NameListStorage {
  entryBuffers: SharedArrayBuffer[];
  chars: SharedArrayBuffer;
  entries: number;
  charsUsed: number;
}

export interface NameListLimits {
  /** Records that may add entries, and their size: bound the whole list. */
  recordCount: number;
  recordSize: number;
  /** Entries per claimed block (tests use small blocks to exercise claims). */
  entryBlock?: number;
  charBlock?: number;
  /**
   * Entries and characters to make room for at once: growing later, from a parse
   * worker, makes that worker account the memory and collect garbage mid-scan.
   */
  expectEntries?: number;
  expectChars?: number;
}

export class NameList {
  /** The record that holds the attribute (rewritten to the base record when extensions are merged), or NO_OWNER. */
  owner!: Uint32Array;
  /** Parent record (names) or stream size (streams). */
  parent!: Float64Array;
  /** Parent sequence (names) or 0 (streams). */
  parentSequence!: Uint16Array;
  /** Namespace (names) or attribute flags low byte (streams). */
  namespace!: Uint8Array;
  /** Names: four FILETIMEs as lo/hi pairs. Streams: allocated size in slot 0..1 as lo/hi. */
  times!: Uint32Array;
  charStart!: Uint32Array;
  charLength!: Uint16Array;
  /** The attribute's instance id in its record ($FILE_NAME or named $DATA): TSK's INODE-TYPE-ID addresses it. */
  attributeId!: Uint16Array;
  chars!: Uint16Array;

  /** This thread's next free entry and the end of its current block (next === end: no block yet). */
  private next = 0;
  private end = 0;
  private blockStart = 0;
  /** End of the block before the current one (a record spanning blocks is dropped from there). */
  private prevEnd = 0;
  private charNext = 0;
  private charEnd = 0;
  private readonly counters: Int32Array;
  /** Entry ranges filled since the last takeRanges, as [start, end) pairs. */
  private ranges: number[] = [];
  private rangeStart = -1;

  private constructor(readonly share: NameListShare) {
    this.counters = new Int32Array(share.counters);
    this.refreshViews();
  }

  /**
   * A new, empty list able to hold every entry `limits` allows; in `reuse`'s buffers
   * (zero-filled where they were written) when each of them may grow as far as this list needs.
   */
  static create(limits: NameListLimits, reuse?: NameListStorage | null): NameList {
    const recordEntries = entriesPerRecordBound(limits.recordSize);
    const recordChars = Math.ceil(limits.recordSize / 2);
    const entryBlock = Math.max(limits.entryBlock ?? 4096, 2 * recordEntries);
    const charBlock = Math.max(limits.charBlock ?? 65536, 2 * recordChars);
    // Each block wastes less than one record's bound at its end; one partly filled block per thread.
    // A growable SharedArrayBuffer holds at most 4 GiB, which caps the widest column
    // (times, 32 bytes an entry) and the characters: far beyond any real volume.
    const needEntries = Math.max(1, limits.recordCount) * recordEntries;
    const maxEntries = Math.min((Math.ceil(needEntries / (entryBlock - recordEntries)) + 64) * entryBlock, Math.floor(MAX_COLUMN_BYTES / 32 / entryBlock) * entryBlock);
    const needChars = Math.max(1, limits.recordCount) * recordChars;
    const maxChars = Math.min((Math.ceil(needChars / (charBlock - recordChars)) + 64) * charBlock, Math.floor(MAX_COLUMN_BYTES / 2 / charBlock) * charBlock);
    const grow = (bytesPerEntry: number, max: number): SharedArrayBuffer => new SharedArrayBuffer(0, { maxByteLength: bytesPerEntry * max });
    const reused = reuse ? reuseStorage(reuse, maxEntries, maxChars) : null;
    const share: NameListShare = {
      entryBuffers: reused?.entryBuffers ?? ENTRY_COLUMNS.map(([, Type, per]) => grow(Type.BYTES_PER_ELEMENT * per, maxEntries)),
      chars: reused?.chars ?? grow(2, maxChars),
      counters: new SharedArrayBuffer(8),
      entryBlock,
      charBlock,
      recordEntries,
      recordChars,
      maxEntries,
      maxChars,
    };
    const list = new NameList(share);
    list.ensureCapacity(Math.min(maxEntries, limits.expectEntries ?? 0), Math.min(maxChars, limits.expectChars ?? 0));
    return list;
  }

  /** The same list seen from another thread (a parse worker, a format worker). */
  static attach(share: NameListShare): NameList {
    return new NameList(share);
  }

  /** The column buffers and how far they were written, for a list built after this one (index-memory.ts). */
  storage(): NameListStorage {
    const s = this.share;
    return { entryBuffers: s.entryBuffers, chars: s.chars, entries: this.length, charsUsed: Atomics.load(this.counters, 1) * s.charBlock };
  }

  /** Entry numbers in use are below this: every entry of every block claimed so far. */
  get length(): number {
    return Atomics.load(this.counters, 0) * this.share.entryBlock;
  }

  /** Bytes committed to entries and characters (for memory reports). */
  get bytes(): number {
    return this.length * BYTES_PER_ENTRY + 2 * Atomics.load(this.counters, 1) * this.share.charBlock;
  }

  /**
   * Recreates the views when another thread grew the columns (views have a fixed
   * length: length-tracking views are much slower). Each view spans its own column
   * as it is now: another thread may be between growing one column and the next.
   */
  refreshViews(): void {
    const s = this.share;
    ENTRY_COLUMNS.forEach(([name, Type], k) => {
      const buffer = s.entryBuffers[k]!;
      (this as unknown as Record<EntryColumnName, unknown>)[name] = new Type(buffer as unknown as ArrayBuffer, 0, Math.floor(buffer.byteLength / Type.BYTES_PER_ELEMENT));
    });
    this.chars = new Uint16Array(s.chars, 0, Math.floor(s.chars.byteLength / 2));
  }

  /** Whether this thread's views reach entry `entries` - 1 in every column and character `chars` - 1. */
  private viewsCover(entries: number, chars: number): boolean {
    const views = this as unknown as Record<EntryColumnName, { length: number }>;
    return ENTRY_COLUMNS.every(([name, , per]) => views[name].length >= entries * per) && this.chars.length >= chars;
  }

  /** Makes every entry below `entries` and character below `chars` addressable from this thread. */
  private ensureCapacity(entries: number, chars: number): void {
    const s = this.share;
    // Every column, not just the first: another thread may have grown some of them only so far.
    ENTRY_COLUMNS.forEach(([, Type, per], k) => growTo(s.entryBuffers[k]!, Type.BYTES_PER_ELEMENT * per, entries, s.maxEntries));
    growTo(s.chars, 2, chars, s.maxChars);
    if (!this.viewsCover(entries, chars)) this.refreshViews();
  }

  private claimEntries(): void {
    const s = this.share;
    const block = Atomics.add(this.counters, 0, 1);
    const start = block * s.entryBlock;
    if (start + s.entryBlock > s.maxEntries) throw new DiskkitError(ErrorCode.UNSUPPORTED, `more than ${s.maxEntries} names or streams: too many to index`, { context: { entries: start } });
    this.ensureCapacity(start + s.entryBlock, 0);
    // Unfilled entries must read as empty whoever scans the list.
    this.owner.fill(NO_OWNER, start, start + s.entryBlock);
    if (this.rangeStart >= 0 && this.next > this.rangeStart) this.ranges.push(this.rangeStart, this.next);
    this.rangeStart = start;
    this.prevEnd = this.end;
    this.blockStart = start;
    this.next = start;
    this.end = start + s.entryBlock;
  }

  private claimChars(): void {
    const s = this.share;
    const block = Atomics.add(this.counters, 1, 1);
    const start = block * s.charBlock;
    if (start + s.charBlock > s.maxChars) throw new DiskkitError(ErrorCode.UNSUPPORTED, `more than ${s.maxChars} name characters: too many to index`, { context: { chars: start } });
    this.ensureCapacity(0, start + s.charBlock);
    this.charNext = start;
    this.charEnd = start + s.charBlock;
  }

  /** Called before each record's entries: room for the most one record can add, so they share a block. */
  beginRecord(): number {
    if (this.end - this.next < this.share.recordEntries) this.claimEntries();
    if (this.charEnd - this.charNext < this.share.recordChars) this.claimChars();
    return this.next;
  }

  /** Adds an entry with `units` characters; returns its number. Call beginRecord first. */
  reserve(units: number): number {
    if (this.next === this.end || this.charNext + units > this.charEnd) {
      // Only a record beyond the bound gets here; its entries then span blocks, which dropRecord handles.
      if (this.next === this.end) this.claimEntries();
      if (this.charNext + units > this.charEnd) this.claimChars();
    }
    const i = this.next++;
    this.charStart[i] = this.charNext;
    this.charLength[i] = units;
    this.charNext += units;
    return i;
  }

  /** Forgets the entries added since `mark` (beginRecord's result): the record turned out corrupt. */
  dropRecord(mark: number): void {
    if (mark >= this.blockStart && mark <= this.next) {
      this.owner.fill(NO_OWNER, mark, this.next);
      this.next = mark;
      return;
    }
    // The record spanned two blocks (only past the per-record bound): empty what it wrote instead.
    this.owner.fill(NO_OWNER, mark, this.prevEnd);
    this.owner.fill(NO_OWNER, this.blockStart, this.next);
    this.next = this.blockStart;
  }

  /** The entry ranges filled since the last call, as [start, end) pairs in fill order. */
  takeRanges(): number[] {
    if (this.rangeStart >= 0 && this.next > this.rangeStart) this.ranges.push(this.rangeStart, this.next);
    this.rangeStart = this.next;
    const out = this.ranges;
    this.ranges = [];
    return out;
  }

  /** The string of entry `i`. */
  name(i: number): string {
    const start = this.charStart[i]!;
    return stringFromUnits(this.chars, start, start + this.charLength[i]!);
  }
}

/**
 * A previous list's buffers for a list of up to `maxEntries` entries and `maxChars`
 * characters, zero-filled where they were written (as far as they are committed); null
 * when one of them could not grow that far.
 */
function reuseStorage(reuse: NameListStorage, maxEntries: number, maxChars: number): { entryBuffers: SharedArrayBuffer[]; chars: SharedArrayBuffer } | null {
  const fits = ENTRY_COLUMNS.every(([, Type, per], k) => reuse.entryBuffers[k] !== undefined && reuse.entryBuffers[k]!.growable && reuse.entryBuffers[k]!.maxByteLength >= Type.BYTES_PER_ELEMENT * per * maxEntries);
  if (!fits || !reuse.chars.growable || reuse.chars.maxByteLength < 2 * maxChars) return null;
  ENTRY_COLUMNS.forEach(([, Type, per], k) => {
    const buffer = reuse.entryBuffers[k]!;
    zeroedForReuse(buffer, Math.min(buffer.byteLength, Type.BYTES_PER_ELEMENT * per * reuse.entries), true);
  });
  zeroedForReuse(reuse.chars, Math.min(reuse.chars.byteLength, 2 * reuse.charsUsed), true);
  return { entryBuffers: reuse.entryBuffers, chars: reuse.chars };
}

/**
 * Grows `buffer` (shared by every parse thread) until it holds `wanted` entries of
 * `bytesPerEntry` bytes, at least doubling it each time, never past `maxEntries`. Another
 * thread may grow it at any moment, between any two of these reads too: its size is read
 * once per round, and a grow() refused because the buffer is already bigger just leads to
 * another look. Only a grow() that leaves the size as it was is a failure (E_IO).
 */
export function growTo(buffer: SharedArrayBuffer, bytesPerEntry: number, wanted: number, maxEntries: number): void {
  const entries = Math.ceil(wanted);
  for (;;) {
    const before = buffer.byteLength;
    if (before >= entries * bytesPerEntry) return;
    const want = Math.min(maxEntries, Math.max(entries, 2 * Math.ceil(before / bytesPerEntry), 65536)) * bytesPerEntry;
    if (want <= before) throw new DiskkitError(ErrorCode.IO, `cannot grow the MFT name list past ${before} bytes`);
    try {
      buffer.grow(want);
    } catch (error) {
      if (buffer.byteLength === before) throw new DiskkitError(ErrorCode.IO, `cannot grow the MFT name list to ${want} bytes: ${(error as Error).message}`);
    }
  }
}

/** Builds a string from UTF-16 units without spreading huge argument lists. */
export function stringFromUnits(units: Uint16Array, start: number, end: number): string {
  if (end - start < 4096) return String.fromCharCode.apply(null, units.subarray(start, end) as unknown as number[]);
  let s = '';
  for (let i = start; i < end; i += 4096) s += String.fromCharCode.apply(null, units.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return s;
}

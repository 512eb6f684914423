/**
 * Ranged reads of one file (docs/cartridge-format.md §7.3, §9): the extents that overlap
 * a range are found by one scan of the file's extent map starting 1 MiB before it (an
 * extent is at most 1 MiB, so none that starts earlier reaches the range), each is
 * verified, decrypted and decompressed, and gaps read as zeros. The last few extents
 * are kept decoded (at most DECODED_EXTENTS, 4 MiB), so the read modes' chunks (smaller
 * than an extent) and random reads in a small window decode each extent once.
 */
import { ftruncateSync, writeSync } from 'node:fs';
import { DiskkitError, ErrorCode, fromSystemError } from '../errors.js';
import { type BlockPointer } from './block-pointer.js';
import { BTree } from './btree.js';
import { CodecQueue, CodecSlot, codecPoolAvailable } from './codec-pool.js';
import { checkAborted } from '../../io/chunk-read.js';
import { type ExtentContext, decodeExtentInto } from './extent-codec.js';
import { readExtent } from './extent-cache.js';
import { EXTENT_RECORD_SIZE, MAX_EXTENT_LOGICAL, type ExtentRecord, decodeExtentMapKey, decodeExtentRecord, encodeExtentMapKey } from './extent-record.js';
import { type InodeRecord } from './inode-record.js';
import { lz4Backend } from './lz4-native.js';
import { PageType } from './page.js';
import { type Pager } from './pager.js';
import { Compression } from './superblock.js';

/** Decoded extents a reader keeps (most recent first). */
const DECODED_EXTENTS = 4;
/**
 * Extents read in order (the first, then each one starting where the previous ended)
 * are decoded into the reader's own SCRATCH_BUFFERS buffers, not into new ones kept by
 * the shared extent cache: a sequential read (cp, cat) uses each extent once, and on
 * these machines a fresh megabyte costs more in page faults than decoding it. Reads
 * elsewhere (random access) go through the cache, which then serves repeats.
 */
const SCRATCH_BUFFERS = 2;
/**
 * A file at least this large, read in order (see `streak`), is decoded ahead on both
 * cores (codec-pool.ts): the next READ_AHEAD_SLOTS extents are read into shared slots
 * and their verification and decoding queued, the worker taking them oldest first and
 * this thread, when it would wait, the newest still queued.
 */
const READ_AHEAD_MIN_BYTES = 8 * MAX_EXTENT_LOGICAL;
/**
 * The same for a file whose extents are cheap to open: unencrypted and stored raw or lz4
 * decoded by the C library (lz4-native.ts), about 0.5 CPU s per GB with the checksum.
 * Below this the worker's start-up (0.1-0.25 CPU s) and the hand-overs cost more than
 * the decoding they take off this thread (measured on a 256 MiB lz4 file: 0.52-0.57 CPU s
 * on one thread, 0.77-0.83 with the worker, and no faster on a busy machine).
 */
const READ_AHEAD_MIN_BYTES_CHEAP = 512 * MAX_EXTENT_LOGICAL;

/**
 * The file size from which read-ahead runs, by what the file's first extent costs to
 * open. Never for plain extents stored raw: their job is a read and a checksum, which
 * the hand-over to the other thread and back cost as much as (a 1 GiB copy out took
 * 1.0 CPU s with the worker against 0.7 on one thread, and no less time).
 */
function readAheadMinBytes(record: ExtentRecord, ctx: ExtentContext): number {
  if (ctx.dataKey) return READ_AHEAD_MIN_BYTES;
  if (record.compression === Compression.NONE) return Infinity;
  return record.compression === Compression.LZ4 && lz4Backend() === 'c' ? READ_AHEAD_MIN_BYTES_CHEAP : READ_AHEAD_MIN_BYTES;
}
const READ_AHEAD_SLOTS = 4;
/** Slots at most, when this thread reads further ahead rather than wait for the worker (CodecQueue.takeOldest). */
const READ_AHEAD_SLOTS_MAX = 12;

/**
 * A file at least this large copied out whole (writeWholeTo) has its extents verified,
 * decoded and written on both cores, each thread writing what it decoded.
 */
const WHOLE_WRITE_MIN_BYTES = 8 * MAX_EXTENT_LOGICAL;
/**
 * The same for a file whose extents are cheap to open (unencrypted, raw or lz4 by the C
 * library: 0.3-0.5 CPU s per GB with the write): the worker's start (about 0.1 CPU s) is
 * paid back in time only by a file this large.
 */
const WHOLE_WRITE_MIN_BYTES_CHEAP = 128 * MAX_EXTENT_LOGICAL;
/** Jobs queued at first, and at most (this thread queues one more rather than wait for the worker's). */
const WHOLE_WRITE_SLOTS = 4;
const WHOLE_WRITE_SLOTS_MAX = 8;
/** Slots kept between whole-file writes (a cp -r of many large files allocates them once). */
const spareWholeWriteSlots: CodecSlot[] = [];

export interface WholeWriteOptions {
  /** Bytes of the file written so far (in file order up to the returned extent, not exact while threads overlap). */
  onProgress?: (done: number) => void;
  signal?: AbortSignal;
}

interface Ahead {
  offset: number;
  record: ExtentRecord;
  slot: CodecSlot;
}

export interface CartridgeReader {
  size: number;
  read(buf: Uint8Array, length: number, position: number): void;
  /** See FileDataSource.writeWholeTo (volume.ts). */
  writeWholeTo?(fd: number, output: string, options?: WholeWriteOptions): boolean;
  /** See FileDataSource.view (volume.ts). */
  view?(length: number, position: number): Uint8Array | null;
  viewSpan?: number;
}

/**
 * A reader of `inode`'s bytes; `path` names it in errors. `packBytes` gives a pack's
 * logical bytes (§7.5: the store knows packs not yet committed).
 */
export function openCartridgeReader(pager: Pager, ctx: ExtentContext, inode: InodeRecord, path: string, packBytes?: (packId: number) => Uint8Array): CartridgeReader {
  const size = inode.size;
  const data = inode.data;
  const checkRange = (length: number, position: number): void => {
    if (!Number.isSafeInteger(position) || position < 0 || length < 0 || position + length > size) {
      throw new DiskkitError(ErrorCode.SHORT_READ, `${path}: read of ${length} bytes at ${position} is past the end of the file (${size} bytes)`, { context: { path, position, length, size } });
    }
  };
  if (data.mode === 'inline') {
    return {
      size,
      read(buf, length, position) {
        checkRange(length, position);
        const end = Math.min(position + length, data.bytes.length);
        buf.fill(0, 0, length);
        if (position < end) buf.set(data.bytes.subarray(position, end), 0);
      },
    };
  }
  if (data.mode === 'packed') {
    // Asked of the volume at every read, never kept: its bytes may sit in a buffer that
    // the next pack read reuses (pack-scratch.ts). Consecutive reads of a pack are served
    // from the volume's last pack.
    const { packId, offset } = data;
    return {
      size,
      read(buf, length, position) {
        checkRange(length, position);
        if (length === 0) return;
        if (!packBytes) throw new DiskkitError(ErrorCode.CORRUPT, `${path}: packed data outside a pack catalog`, { context: { path } });
        const all = packBytes(packId);
        if (offset + size > all.length) {
          throw new DiskkitError(ErrorCode.CORRUPT, `${path}: ${size} bytes at ${offset} lie past the end of the ${all.length} bytes stored`, { context: { path, offset, size } });
        }
        buf.set(all.subarray(offset + position, offset + position + length), 0);
      },
    };
  }
  if (data.mode === 'extent') {
    // One decoded extent (≤ 1 MiB) holds the whole file.
    let bytes: Uint8Array | null = null;
    const load = (): Uint8Array => {
      if (bytes) return bytes;
      const all = readExtent(pager, decodeExtentRecord(data.record, 0, pager.pageSize, pager.space.pageCount), ctx);
      if (size > all.length) {
        throw new DiskkitError(ErrorCode.CORRUPT, `${path}: ${size} bytes lie past the end of the ${all.length} bytes stored`, { context: { path, offset: 0, size } });
      }
      bytes = all.subarray(0, size);
      return bytes;
    };
    return {
      size,
      read(buf, length, position) {
        checkRange(length, position);
        if (length === 0) return;
        buf.set(load().subarray(position, position + length), 0);
      },
      view(length, position) {
        checkRange(length, position);
        return length === 0 ? null : load().subarray(position, position + length);
      },
    };
  }
  if (data.mode === 'empty') {
    return {
      size,
      read(buf, length, position) {
        checkRange(length, position);
        buf.fill(0, 0, length);
      },
    };
  }
  return new ExtentMapReader(pager, ctx, data.root, size, path, checkRange);
}

class ExtentMapReader implements CartridgeReader {
  /** A decoded extent at most; the extents of a file written in order start at multiples of it. */
  readonly viewSpan = MAX_EXTENT_LOGICAL;
  private readonly map: BTree;
  /** Most recently used first. */
  private readonly decoded: { offset: number; address: number; bytes: Uint8Array }[] = [];
  /** Decode buffers of long sequential reads (allocated on first use). */
  private readonly scratch: Uint8Array[] = [];
  private nextScratch = 0;
  /** File offset just past the last extent decoded (-1: none yet). */
  private nextOffset = -1;
  /** Read-ahead (see READ_AHEAD_MIN_BYTES): extents queued in file order, their slots, and where the next one is looked up. */
  private readonly ahead: Ahead[] = [];
  private readonly aheadQueue = new CodecQueue();
  private readonly aheadFree: CodecSlot[] = [];
  /** The slot whose bytes the last read-ahead decode returned (recycled on the next one). */
  private aheadHeld: CodecSlot | null = null;
  private aheadFrom = 0;
  /**
   * Reads in a row, each starting where the previous one ended: read-ahead starts at two
   * (a random reader that happens to hit the next bytes once starts nothing; holes
   * between extents do not break a sequential read).
   */
  private streak = 0;
  private lastReadEnd = -1;
  /** Slots this reader made (free, queued or held). */
  private aheadSlots = 0;
  /** The file size from which read-ahead runs, chosen at the first extent by what it costs to open. */
  private aheadMinBytes: number | undefined;

  constructor(
    private readonly pager: Pager,
    private readonly ctx: ExtentContext,
    root: BlockPointer,
    readonly size: number,
    private readonly path: string,
    private readonly checkRange: (length: number, position: number) => void,
  ) {
    this.map = new BTree(pager, PageType.EXTENT_MAP_NODE, root);
  }

  read(buf: Uint8Array, length: number, position: number): void {
    this.checkRange(length, position);
    if (length === 0) return;
    const end = position + length;
    this.noteRead(position, end);
    const cached = this.cachedAt(position, end);
    if (cached) {
      buf.set(cached, 0);
      return;
    }
    // Holes read as zeros: only what no extent covers is zeroed (a sequential read of a
    // file without holes zeroed every byte it then overwrote: a memset of the whole file).
    let filled = position;
    let previousEnd = -1;
    for (const [key, value] of this.map.range(encodeExtentMapKey(Math.max(0, position - MAX_EXTENT_LOGICAL + 1)))) {
      const offset = decodeExtentMapKey(key);
      if (offset < 0 || value.length !== EXTENT_RECORD_SIZE || offset < previousEnd) throw this.malformed(offset);
      if (offset >= end) break;
      const record = decodeExtentRecord(value, 0, this.pager.pageSize, this.pager.space.pageCount);
      previousEnd = offset + record.logicalLength;
      if (previousEnd <= position) continue;
      const bytes = this.decode(offset, record);
      const from = Math.max(position, offset);
      const to = Math.min(end, previousEnd);
      if (from > filled) buf.fill(0, filled - position, from - position);
      buf.set(bytes.subarray(from - offset, to - offset), from - position);
      filled = to;
    }
    if (filled < end) buf.fill(0, filled - position, length);
  }

  /**
   * The bytes [position, position + length) as a view of a decoded extent (read-ahead
   * slot, scratch buffer or cache entry), valid until the next call; null when they do not
   * lie inside one extent (a hole, or a range across two): read() copies those.
   */
  view(length: number, position: number): Uint8Array | null {
    this.checkRange(length, position);
    if (length === 0) return null;
    const end = position + length;
    this.noteRead(position, end);
    const cached = this.cachedAt(position, end);
    if (cached) return cached;
    let found: { offset: number; record: ExtentRecord } | null = null;
    for (const [key, value] of this.map.range(encodeExtentMapKey(Math.max(0, position - MAX_EXTENT_LOGICAL + 1)))) {
      const offset = decodeExtentMapKey(key);
      if (offset < 0 || value.length !== EXTENT_RECORD_SIZE) throw this.malformed(offset);
      if (found) {
        // read() of this range would meet the next extent too: malformed when it overlaps.
        if (offset < found.offset + found.record.logicalLength) throw this.malformed(offset);
        break;
      }
      if (offset > position) return null;
      const record = decodeExtentRecord(value, 0, this.pager.pageSize, this.pager.space.pageCount);
      const extentEnd = offset + record.logicalLength;
      if (extentEnd <= position) continue;
      if (extentEnd < end) return null;
      found = { offset, record };
    }
    if (!found) return null;
    return this.decode(found.offset, found.record).subarray(position - found.offset, end - found.offset);
  }

  /**
   * Writes the whole file into `fd` (an empty file: extents at their offsets, the size
   * set last, holes left unwritten) on both cores: the extents' verification, decoding
   * and writing are queued as jobs (codec-pool.ts) that the worker takes oldest first
   * and this thread newest first, so each core writes the bytes it decoded while they
   * are in its cache, and neither waits for the other. Every extent is verified before
   * any of its bytes is written. False (nothing written) where there is no second core
   * or the file is small: then the caller reads it through view()/read().
   *
   * Why: copying out through view(), this thread wrote every extent the worker decoded,
   * from the other core's cache, and waited for or took over jobs in turn; a 1 GiB lz4
   * file took 1.3 CPU s and 0.77 s where one thread alone takes about 1.0 CPU s.
   */
  writeWholeTo(fd: number, output: string, options: WholeWriteOptions = {}): boolean {
    if (this.size < WHOLE_WRITE_MIN_BYTES || this.size < this.wholeWriteMinBytes() || !codecPoolAvailable()) return false;
    const pageSize = this.pager.pageSize;
    const queue = new CodecQueue();
    const free = spareWholeWriteSlots.splice(0);
    let slots = free.length;
    /** File offsets of the queued jobs' extents, oldest first (progress). */
    const queuedEnds: number[] = [];
    const entries = this.map.range(encodeExtentMapKey(0))[Symbol.iterator]();
    let previousEnd = 0;
    let finished = false;
    /** Queues the next extent's job (false: no slot free, or no extent left). */
    const queueNext = (): boolean => {
      while (!finished) {
        if (free.length === 0) {
          if (slots >= WHOLE_WRITE_SLOTS_MAX) return false;
          free.push(CodecSlot.create());
          slots++;
        }
        const next = entries.next();
        if (next.done) {
          finished = true;
          return false;
        }
        const [key, value] = next.value;
        const offset = decodeExtentMapKey(key);
        if (offset < 0 || value.length !== EXTENT_RECORD_SIZE || offset < previousEnd) throw this.malformed(offset);
        if (offset >= this.size) {
          finished = true;
          return false;
        }
        const record = decodeExtentRecord(value, 0, pageSize, this.pager.space.pageCount);
        previousEnd = offset + record.logicalLength;
        const length = Math.min(record.logicalLength, this.size - offset);
        if (record.pageCount * pageSize > free[0]!.input.length) {
          // Larger than a slot (a page size that does not divide 1 MiB): decoded and written here.
          writeAt(fd, readExtent(this.pager, record, this.ctx), length, offset, output);
          continue;
        }
        const slot = free.pop()!;
        const from = this.pager.rawRange(record.address, record.pageCount);
        queue.submit(slot, { kind: 'decode', storedLength: record.pageCount * pageSize, record, ctx: this.ctx, from, to: { fd, position: offset, length, path: output } });
        queuedEnds.push(offset + length);
        return true;
      }
      return false;
    };
    try {
      while (slots < WHOLE_WRITE_SLOTS) {
        free.push(CodecSlot.create());
        slots++;
      }
      for (;;) {
        checkAborted(options.signal);
        while (free.length > 0 && queueNext());
        if (queue.length === 0) break;
        free.push(queue.takeOldest(queueNext));
        options.onProgress?.(queuedEnds.shift()!);
      }
    } finally {
      free.push(...queue.drain());
      spareWholeWriteSlots.push(...free);
    }
    try {
      ftruncateSync(fd, this.size);
    } catch (error) {
      throw fromSystemError(error, output, 'write output file');
    }
    return true;
  }

  /** WHOLE_WRITE_MIN_BYTES, or _CHEAP by the file's first extent (a malformed one is left for the copy to report). */
  private wholeWriteMinBytes(): number {
    if (this.ctx.dataKey) return WHOLE_WRITE_MIN_BYTES;
    for (const [, value] of this.map.range(encodeExtentMapKey(0))) {
      let compression: number;
      try {
        compression = decodeExtentRecord(value, 0, this.pager.pageSize, this.pager.space.pageCount).compression;
      } catch {
        break;
      }
      return compression === Compression.NONE || (compression === Compression.LZ4 && lz4Backend() === 'c') ? WHOLE_WRITE_MIN_BYTES_CHEAP : WHOLE_WRITE_MIN_BYTES;
    }
    return WHOLE_WRITE_MIN_BYTES;
  }

  /** Counts reads in a row (see `streak`). */
  private noteRead(position: number, end: number): void {
    this.streak = position === this.lastReadEnd ? this.streak + 1 : 0;
    this.lastReadEnd = end;
  }

  /** [position, end) from an extent decoded lately, or null. */
  private cachedAt(position: number, end: number): Uint8Array | null {
    for (const cached of this.decoded) {
      if (position >= cached.offset && end <= cached.offset + cached.bytes.length) return cached.bytes.subarray(position - cached.offset, end - cached.offset);
    }
    return null;
  }

  private malformed(offset: number): DiskkitError {
    return new DiskkitError(ErrorCode.CORRUPT, `${this.path}: extent map entries overlap or are malformed`, { context: { path: this.path, offset } });
  }

  private decode(offset: number, record: ExtentRecord): Uint8Array {
    const i = this.decoded.findIndex((d) => d.offset === offset && d.address === record.address);
    if (i >= 0) {
      const [hit] = this.decoded.splice(i, 1);
      this.decoded.unshift(hit!);
      return hit!.bytes;
    }
    const sequential = offset === this.nextOffset || this.nextOffset < 0;
    const streaming = this.streak >= 2;
    this.nextOffset = offset + record.logicalLength;
    let bytes: Uint8Array | null = null;
    this.aheadMinBytes ??= readAheadMinBytes(record, this.ctx);
    if (streaming && this.size >= this.aheadMinBytes && codecPoolAvailable()) bytes = this.decodeAhead(offset, record);
    if (bytes) {
      // decoded on either thread, from the read-ahead queue
    } else if (sequential && !this.pager.extentCache.has(record.address)) {
      const scratch = this.scratch[this.nextScratch] ?? (this.scratch[this.nextScratch] = new Uint8Array(MAX_EXTENT_LOGICAL));
      this.nextScratch = (this.nextScratch + 1) % SCRATCH_BUFFERS;
      // A decoded entry still pointing into this buffer is about to be overwritten.
      this.dropDecodedIn(scratch);
      // An extent stored raw is read straight into the scratch buffer and verified (or
      // decrypted) there: its bytes are the file's, so no copy follows.
      const raw = record.compression === Compression.NONE && record.pageCount * this.pager.pageSize <= scratch.length;
      const stored = raw ? this.pager.readRawInto(record.address, record.pageCount, scratch) : this.pager.readRawScratch(record.address, record.pageCount);
      bytes = decodeExtentInto(stored, record, this.ctx, scratch);
      if (bytes.buffer === stored.buffer && stored.buffer !== scratch.buffer) {
        scratch.set(bytes);
        bytes = scratch.subarray(0, bytes.length);
      }
    } else {
      // The pager's decoded-extent cache serves extents this or another reader decoded before.
      bytes = readExtent(this.pager, record, this.ctx);
    }
    this.decoded.unshift({ offset, address: record.address, bytes });
    if (this.decoded.length > DECODED_EXTENTS) this.decoded.pop();
    return bytes;
  }

  /** The extent at `offset` through the read-ahead queue; null when it cannot go that way (then it is decoded here). */
  private decodeAhead(offset: number, record: ExtentRecord): Uint8Array | null {
    if (this.aheadHeld) {
      this.dropDecodedIn(this.aheadHeld.input);
      this.dropDecodedIn(this.aheadHeld.output);
      this.aheadFree.push(this.aheadHeld);
      this.aheadHeld = null;
    }
    const head = this.ahead[0];
    if (!head || head.offset !== offset || head.record.address !== record.address || head.record.generation !== record.generation) {
      this.stopAhead();
      this.aheadFrom = offset;
    }
    this.fillAhead();
    const first = this.ahead[0];
    if (!first || first.offset !== offset || first.record.address !== record.address || first.record.generation !== record.generation) {
      this.stopAhead();
      return null;
    }
    let slot: CodecSlot;
    try {
      slot = this.aheadQueue.takeOldest(() => this.readFurther());
    } catch (error) {
      this.stopAhead();
      throw error;
    }
    this.ahead.shift();
    this.aheadHeld = slot;
    return slot.result();
  }

  /** One more slot (up to READ_AHEAD_SLOTS_MAX), filled and queued; false when none could be. */
  private readFurther(): boolean {
    const before = this.ahead.length;
    if (this.aheadFree.length === 0 && this.aheadSlots < READ_AHEAD_SLOTS_MAX) {
      this.aheadFree.push(CodecSlot.create());
      this.aheadSlots++;
    }
    this.fillAhead(1);
    return this.ahead.length > before;
  }

  /** Reads and queues the extents after the last one queued while slots are free (at most `limit`). */
  private fillAhead(limit = Infinity): void {
    while (this.aheadSlots < READ_AHEAD_SLOTS) {
      this.aheadFree.push(CodecSlot.create());
      this.aheadSlots++;
    }
    if (this.aheadFree.length === 0) return;
    let queued = 0;
    const pageSize = this.pager.pageSize;
    for (const [key, value] of this.map.range(encodeExtentMapKey(this.aheadFrom))) {
      const offset = decodeExtentMapKey(key);
      if (this.aheadFree.length === 0 || queued >= limit || offset < 0 || value.length !== EXTENT_RECORD_SIZE) break;
      const slot = this.aheadFree[this.aheadFree.length - 1]!;
      let record: ExtentRecord;
      try {
        record = decodeExtentRecord(value, 0, pageSize, this.pager.space.pageCount);
        if (offset < this.aheadFrom || record.pageCount * pageSize > slot.input.length) break;
      } catch {
        // Reported when (and if) the extent itself is read, by the path that decodes it here.
        break;
      }
      this.aheadFree.pop();
      // The job reads its stored bytes itself (a read error is the job's, reported when this extent is taken).
      const from = this.pager.rawRange(record.address, record.pageCount);
      this.aheadQueue.submit(slot, { kind: 'decode', storedLength: record.pageCount * pageSize, record, ctx: this.ctx, from });
      this.ahead.push({ offset, record, slot });
      this.aheadFrom = offset + record.logicalLength;
      queued++;
    }
  }

  private stopAhead(): void {
    this.aheadFree.push(...this.aheadQueue.drain());
    this.ahead.length = 0;
  }

  private dropDecodedIn(buffer: Uint8Array): void {
    for (let i = this.decoded.length - 1; i >= 0; i--) if (this.decoded[i]!.bytes.buffer === buffer.buffer) this.decoded.splice(i, 1);
  }
}

/** Writes `bytes[0, length)` at `position` of `fd`. */
function writeAt(fd: number, bytes: Uint8Array, length: number, position: number, output: string): void {
  if (length > bytes.length) throw new DiskkitError(ErrorCode.CORRUPT, `${output}: extent holds ${bytes.length} bytes, ${length} wanted`, { context: { position } });
  let done = 0;
  while (done < length) {
    try {
      done += writeSync(fd, bytes, done, length - done, position + done);
    } catch (error) {
      throw fromSystemError(error, output, 'write output file');
    }
  }
}

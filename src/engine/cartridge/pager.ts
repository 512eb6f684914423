/**
 * Pages of a Cartridge file by number (docs/cartridge-format.md §1, §4): verified reads
 * through the parent's pointer, copy-on-write allocation from the free space, and the
 * commit that makes a transaction durable (pages, fsync, meta page, fsync).
 *
 * Synchronous I/O on purpose: a B+tree descent is a chain of dependent reads, and the
 * page cache answers each in microseconds, less than a promise round trip costs.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, readSync, writeSync } from 'node:fs';
import { PageRunBuffer } from './page-run-buffer.js';
import { type ExtentCache, createExtentCache } from './extent-cache.js';
import { DiskkitError, ErrorCode, fromSystemError } from '../errors.js';
import { ArcCache } from './arc-cache.js';
import { extentCacheEntries, pageCacheEntries } from '../cache-budget.js';
import { MAX_EXTENT_LOGICAL } from './extent-record.js';
import { type BlockPointer } from './block-pointer.js';
import { FreeSpace } from './free-space.js';
import { type MetaPage, encodeMetaPage, metaSlotPage } from './meta-page.js';
import { type PageContext, type PageTypeId, openPage, sealPage } from './page.js';

export interface PagerOptions {
  fd: number;
  /** For error messages. */
  path: string;
  ctx: PageContext;
  space: FreeSpace;
  /** Decoded pages kept by the ARC cache (entries, not bytes); default: half the --cache-size budget (cache-budget.ts). */
  cacheEntries?: number;
  /** False when the descriptor belongs to someone else (the Volume's BlockSource), who closes it. */
  ownsFd?: boolean;
}

/** Largest run of consecutive page writes combined into one pwrite. */
const WRITE_COMBINE_BYTES = 1 << 20;
/** Bytes a small read fetches ahead. */
const READ_AHEAD_BYTES = 64 * 1024;
const READ_AHEAD_WINDOWS = 4;
/** Reads up to this size go through the read-ahead window; larger ones are read directly. */
const READ_AHEAD_LIMIT = 16 * 1024;

export class Pager {
  readonly fd: number;
  readonly ownsFd: boolean;
  readonly path: string;
  readonly ctx: PageContext;
  readonly space: FreeSpace;
  /** Decoded, verified objects by page number; an entry is dropped when its page is freed. */
  readonly cache: ArcCache<number, { generation: number; value: unknown }>;
  /** Decoded extents by first page (extent-cache.ts); an entry is dropped when its pages are freed. */
  readonly extentCache: ExtentCache;
  pagesRead = 0;
  pagesWritten = 0;
  /** pwrite and pread calls made (the write-combining and read-ahead below exist to keep these few). */
  writeCalls = 0;
  readCalls = 0;
  /**
   * Writes of consecutive pages wait here and go out as one pwrite: a bulk import writes
   * each small file's extent and extent-map page next to the previous file's, and 20,000
   * 4 KiB pwrites cost more than the data. Flushed before any read that overlaps it,
   * before fsync and before the file size is asked.
   */
  private readonly pending: PageRunBuffer;
  /** Pages allocated inside undoable() (address, count pairs), else null. */
  private allocationLog: number[] | null = null;
  /**
   * Off by default, so a bare pager writes through (tests and tools that reopen the file
   * see every write); the store turns it on, since its commit flushes before fsync.
   */
  combineWrites = false;
  /**
   * Read-ahead: single-page and small reads fetch up to READ_AHEAD_BYTES at once and later
   * small reads inside that window are served from it (a file's extent-map page and its
   * extent are neighbours, and so are consecutive files of an import). Every write that
   * overlaps the window drops it, so it never serves bytes older than the file's.
   */
  private readonly windows: PageRunBuffer[];
  private nextWindow = 0;
  /** readRawScratch's buffer (grown to the largest extent read). */
  private scratch = new Uint8Array(0);
  /** Page after the last read's, to tell a sequential pattern from random lookups. */
  private lastReadEnd = -1;

  constructor(options: PagerOptions) {
    this.fd = options.fd;
    this.ownsFd = options.ownsFd ?? true;
    this.path = options.path;
    this.ctx = options.ctx;
    this.space = options.space;
    this.cache = new ArcCache(options.cacheEntries ?? pageCacheEntries(this.ctx.pageSize));
    this.extentCache = createExtentCache(extentCacheEntries(MAX_EXTENT_LOGICAL));
    this.pending = new PageRunBuffer(this.ctx.pageSize, WRITE_COMBINE_BYTES);
    // A few windows, so that reading catalog leaves between a file's pages does not throw the data's window away.
    this.windows = Array.from({ length: READ_AHEAD_WINDOWS }, () => new PageRunBuffer(this.ctx.pageSize, READ_AHEAD_BYTES));
  }

  get pageSize(): number {
    return this.ctx.pageSize;
  }

  /** The running transaction's generation. */
  get generation(): number {
    return this.space.generation;
  }

  /** Reads `count` whole pages from `address` without checks (extents, fsck's scan). Short reads throw. */
  readRaw(address: number, count = 1): Uint8Array {
    const length = count * this.pageSize;
    if (this.pending.overlaps(address, count)) this.flushWrites();
    const buf = new Uint8Array(length);
    const near = Math.abs(address - this.lastReadEnd) <= READ_AHEAD_BYTES / this.pageSize;
    this.lastReadEnd = address + count;
    // Only reads near the previous one go through a window: a random lookup's single page
    // (a B+tree descent in a big catalog) must not fetch 64 KiB it will not use.
    if (length <= READ_AHEAD_LIMIT) {
      for (const window of this.windows) {
        if (window.contains(address, count)) {
          window.copyOut(address, count, buf);
          this.pagesRead += count;
          return buf;
        }
      }
    }
    if (length <= READ_AHEAD_LIMIT && near) {
      // Small read: fetch a window from here and serve this read and its neighbours from it.
      const window = this.windows[this.nextWindow]!;
      this.nextWindow = (this.nextWindow + 1) % this.windows.length;
      const got = this.preadInto(window.bytes, 0, window.bytes.length, address * this.pageSize);
      window.reset(address, Math.floor(got / this.pageSize));
      if (window.contains(address, count)) {
        window.copyOut(address, count, buf);
        this.pagesRead += count;
        return buf;
      }
      window.reset(0, 0);
    }
    const done = this.preadInto(buf, 0, length, address * this.pageSize);
    if (done < length) {
      throw new DiskkitError(ErrorCode.TRUNCATED, `image ends inside page ${address + Math.floor(done / this.pageSize)}`, { context: { path: this.path, page: address } });
    }
    this.pagesRead += count;
    return buf;
  }

  /**
   * Reads `count` whole pages from `address` into a buffer the pager reuses (extents on
   * their way to be verified and decoded): valid until the next call. A fresh megabyte
   * per extent cost more in page faults than reading it.
   */
  readRawScratch(address: number, count: number): Uint8Array {
    const length = count * this.pageSize;
    if (this.scratch.length < length) this.scratch = new Uint8Array(length);
    return this.readRawInto(address, count, this.scratch);
  }

  /** Reads `count` whole pages from `address` into the start of `into` (long enough); returns that part of it. */
  readRawInto(address: number, count: number, into: Uint8Array): Uint8Array {
    const length = count * this.pageSize;
    if (this.pending.overlaps(address, count)) this.flushWrites();
    const buf = into.subarray(0, length);
    this.lastReadEnd = address + count;
    const done = this.preadInto(buf, 0, length, address * this.pageSize);
    if (done < length) {
      throw new DiskkitError(ErrorCode.TRUNCATED, `image ends inside page ${address + Math.floor(done / this.pageSize)}`, { context: { path: this.path, page: address } });
    }
    this.pagesRead += count;
    return buf;
  }

  /**
   * Where `count` whole pages from `address` lie in the file, for a thread that reads them
   * itself (codec-jobs.ts): pages of them still waiting to be written go out first, as
   * before any read of this pager's.
   */
  rawRange(address: number, count: number): { fd: number; position: number; length: number; path: string } {
    if (this.pending.overlaps(address, count)) this.flushWrites();
    this.lastReadEnd = address + count;
    this.readCalls++;
    this.pagesRead += count;
    return { fd: this.fd, position: address * this.pageSize, length: count * this.pageSize, path: this.path };
  }

  /** pread until `length` bytes or the end of the file; returns the bytes read. */
  private preadInto(buf: Uint8Array, offset: number, length: number, position: number): number {
    let done = 0;
    try {
      while (done < length) {
        this.readCalls++;
        const n = readSync(this.fd, buf, offset + done, length - done, position + done);
        if (n === 0) break;
        done += n;
      }
    } catch (error) {
      throw fromSystemError(error, this.path, `read page ${Math.floor(position / this.pageSize)}`);
    }
    return done;
  }

  /** Reads the page `pointer` names and verifies it against the pointer; returns the plaintext page. */
  readPage(pointer: BlockPointer, type: PageTypeId): Uint8Array {
    this.checkAddress(pointer.address, 1);
    return openPage(this.readRaw(pointer.address), pointer, type, this.ctx);
  }

  /** Cached decoded object for the page `pointer` names, or `decode(page)` of a verified read. */
  readDecoded<T>(pointer: BlockPointer, type: PageTypeId, decode: (page: Uint8Array) => T): T {
    const hit = this.cache.get(pointer.address);
    if (hit && hit.generation === pointer.generation) return hit.value as T;
    const value = decode(this.readPage(pointer, type));
    this.cache.set(pointer.address, { generation: pointer.generation, value });
    return value;
  }

  /** Caches an object just written to `pointer` (it is immutable from now on). */
  remember(pointer: BlockPointer, value: unknown): void {
    this.cache.set(pointer.address, { generation: pointer.generation, value });
  }

  allocatePages(count: number): number {
    const address = this.space.allocate(count);
    this.allocationLog?.push(address, count);
    return address;
  }

  /**
   * Runs `write`, whose pages nothing committed and nothing in the catalog names yet (a
   * file's extents and extent map). If it throws (ENOSPC part way through a file, a source
   * that cannot be read), every page it allocated goes back to free space and its writes
   * still waiting in memory are dropped, so the rest of the transaction commits without
   * them: no pages owned by nothing, no failed write tried again at the commit.
   */
  undoable<T>(write: () => T): T {
    if (this.allocationLog !== null) return write();
    const log: number[] = [];
    this.allocationLog = log;
    try {
      return write();
    } catch (error) {
      this.allocationLog = null;
      for (let i = log.length - 2; i >= 0; i -= 2) {
        this.dropPending(log[i]!, log[i + 1]!);
        this.freePages(log[i]!, log[i + 1]!, this.generation);
      }
      throw error;
    } finally {
      this.allocationLog = null;
    }
  }

  /** Forgets waiting writes of pages [address, address + count) where they end or begin the run (freed pages need none). */
  private dropPending(address: number, count: number): void {
    const run = this.pending;
    if (!run.overlaps(address, count)) return;
    const end = address + count;
    const runEnd = run.start + run.pages;
    if (address <= run.start && end >= runEnd) run.reset(0, 0);
    else if (end >= runEnd) run.pages = address - run.start;
    else if (address <= run.start) {
      run.bytes.copyWithin(0, (end - run.start) * this.pageSize, run.pages * this.pageSize);
      run.reset(end, runEnd - end);
    }
    // A range inside the run stays: written at the next flush, where it harms nothing.
  }

  /** Copy-on-write: the old page returns to free space under the §8 reuse rule. */
  freePages(address: number, count: number, born: number): void {
    this.space.free(address, count, born);
    for (let i = 0; i < count; i++) this.cache.delete(address + i);
    this.extentCache.delete(address);
  }

  /** Seals `page` (payload filled in) as `type` at `address` and writes it; returns its pointer. */
  writePage(page: Uint8Array, type: PageTypeId, address: number): BlockPointer {
    this.checkAddress(address, 1);
    const pointer = sealPage(page, type, address, this.generation, this.ctx);
    this.writeRaw(address, page);
    return pointer;
  }

  /**
   * Writes `bytes` at page `address`, the last page padded with zeros (extents, the
   * superblock, meta pages). `bytes` may be reused once this returns.
   */
  writeRaw(address: number, bytes: Uint8Array): void {
    const count = Math.ceil(bytes.length / this.pageSize);
    if (count === 0) return;
    this.dropWindows(address, count);
    this.pagesWritten += count;
    if (this.pending.appendable(address, count)) {
      this.pending.append(bytes);
      return;
    }
    this.flushWrites();
    if (this.combineWrites && bytes.length <= WRITE_COMBINE_BYTES / 2) {
      this.pending.reset(address, 0);
      this.pending.append(bytes);
      return;
    }
    this.pwriteAll(bytes, 0, bytes.length, address * this.pageSize);
    const tail = count * this.pageSize - bytes.length;
    if (tail > 0) this.pwriteAll(new Uint8Array(tail), 0, tail, address * this.pageSize + bytes.length);
  }

  /** Forgets read-ahead windows that hold any of pages [address, address + count) (they are being rewritten). */
  private dropWindows(address: number, count: number): void {
    for (const window of this.windows) if (window.overlaps(address, count)) window.reset(0, 0);
  }

  /** Writes out the combined run of pages waiting in memory. */
  flushWrites(): void {
    if (this.pending.pages === 0) return;
    this.pwriteAll(this.pending.bytes, 0, this.pending.pages * this.pageSize, this.pending.start * this.pageSize);
    this.pending.reset(0, 0);
  }

  private pwriteAll(bytes: Uint8Array, offset: number, length: number, position: number): void {
    let done = 0;
    try {
      while (done < length) {
        this.writeCalls++;
        done += writeSync(this.fd, bytes, offset + done, length - done, position + done);
      }
    } catch (error) {
      throw fromSystemError(error, this.path, `write page ${Math.floor(position / this.pageSize)}`);
    }
  }

  sync(): void {
    this.flushWrites();
    try {
      fsyncSync(this.fd);
    } catch (error) {
      throw fromSystemError(error, this.path, 'sync');
    }
  }

  /**
   * Makes transaction `meta.generation` durable (§4 commit order): fsync the pages already
   * written, write the meta page into slot generation mod 2, fsync again. Then the next
   * transaction begins.
   */
  commit(meta: MetaPage): void {
    if (meta.generation !== this.generation) throw new Error(`commit of generation ${meta.generation} during transaction ${this.generation}`);
    this.flushWrites();
    this.coverPages(meta.pageCount);
    this.sync();
    // The meta page goes out on its own, after every page it names is durable.
    const metaPage = encodeMetaPage(meta, this.ctx);
    this.pwriteAll(metaPage, 0, metaPage.length, metaSlotPage(meta.generation) * this.pageSize);
    this.pagesWritten++;
    this.dropWindows(metaSlotPage(meta.generation), 1);
    this.sync();
    this.space.beginTransaction(meta.generation + 1);
  }

  /**
   * Makes the file at least `pageCount` pages long (a hole where it was shorter). A
   * transaction can count pages it never wrote: a copy that ran out of space (ENOSPC) is
   * reported, its pages are freed, and the rest of the transaction commits; without this
   * the meta page would name a page count past the end, and every open would refuse the
   * image as truncated. Extending takes no space; where it fails, the commit fails and
   * the previous one stays the image's state.
   */
  private coverPages(pageCount: number): void {
    const bytes = pageCount * this.pageSize;
    try {
      if (fstatSync(this.fd).size < bytes) ftruncateSync(this.fd, bytes);
    } catch (error) {
      throw fromSystemError(error, this.path, 'extend image');
    }
  }

  /** Size of the file in whole pages (it may exceed the committed pageCount after a crash). */
  filePages(): number {
    this.flushWrites();
    return Math.floor(fstatSync(this.fd).size / this.pageSize);
  }

  /** Closes the file; pages still waiting in memory are uncommitted and dropped (close never commits). */
  close(): void {
    this.pending.reset(0, 0);
    if (this.ownsFd) closeSync(this.fd);
  }

  private checkAddress(address: number, count: number): void {
    if (!Number.isSafeInteger(address) || address < 3 || address + count > this.space.pageCount) {
      throw new DiskkitError(ErrorCode.CORRUPT, `pointer to page ${address} outside the image (${this.space.pageCount} pages)`, {
        context: { path: this.path, page: address },
      });
    }
  }
}

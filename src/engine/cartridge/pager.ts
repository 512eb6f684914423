/**
 * Pages of a Cartridge file by number (docs/cartridge-format.md §1, §4): verified reads
 * through the parent's pointer, copy-on-write allocation from the free space, and the
 * commit that makes a transaction durable (pages, fsync, meta page, fsync).
 *
 * Synchronous I/O on purpose: a B+tree descent is a chain of dependent reads, and the
 * page cache answers each in microseconds, less than a promise round trip costs.
 */
import { closeSync, fstatSync, fsyncSync, readSync, writeSync } from 'node:fs';
import { DiskkitError, ErrorCode, fromSystemError } from '../errors.js';
import { ArcCache } from './arc-cache.js';
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
  /** Decoded pages kept by the ARC cache (entries, not bytes). */
  cacheEntries?: number;
  /** False when the descriptor belongs to someone else (the Volume's BlockSource), who closes it. */
  ownsFd?: boolean;
}

export class Pager {
  readonly fd: number;
  readonly ownsFd: boolean;
  readonly path: string;
  readonly ctx: PageContext;
  readonly space: FreeSpace;
  /** Decoded, verified objects by page number; an entry is dropped when its page is freed. */
  readonly cache: ArcCache<number, { generation: number; value: unknown }>;
  pagesRead = 0;
  pagesWritten = 0;

  constructor(options: PagerOptions) {
    this.fd = options.fd;
    this.ownsFd = options.ownsFd ?? true;
    this.path = options.path;
    this.ctx = options.ctx;
    this.space = options.space;
    this.cache = new ArcCache(options.cacheEntries ?? 4096);
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
    const buf = new Uint8Array(length);
    let done = 0;
    try {
      while (done < length) {
        const n = readSync(this.fd, buf, done, length - done, address * this.pageSize + done);
        if (n === 0) break;
        done += n;
      }
    } catch (error) {
      throw fromSystemError(error, this.path, `read page ${address}`);
    }
    if (done < length) {
      throw new DiskkitError(ErrorCode.TRUNCATED, `image ends inside page ${address + Math.floor(done / this.pageSize)}`, { context: { path: this.path, page: address } });
    }
    this.pagesRead += count;
    return buf;
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
    return this.space.allocate(count);
  }

  /** Copy-on-write: the old page returns to free space under the §8 reuse rule. */
  freePages(address: number, count: number, born: number): void {
    this.space.free(address, count, born);
    for (let i = 0; i < count; i++) this.cache.delete(address + i);
  }

  /** Seals `page` (payload filled in) as `type` at `address` and writes it; returns its pointer. */
  writePage(page: Uint8Array, type: PageTypeId, address: number): BlockPointer {
    this.checkAddress(address, 1);
    const pointer = sealPage(page, type, address, this.generation, this.ctx);
    this.writeRaw(address, page);
    return pointer;
  }

  /** Writes whole pages at `address` (extents, the superblock, meta pages). */
  writeRaw(address: number, bytes: Uint8Array): void {
    if (bytes.length % this.pageSize !== 0) throw new Error(`write of ${bytes.length} bytes is not whole pages`);
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, address * this.pageSize + done);
    } catch (error) {
      throw fromSystemError(error, this.path, `write page ${address}`);
    }
    this.pagesWritten += bytes.length / this.pageSize;
  }

  sync(): void {
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
    this.sync();
    this.writeRaw(metaSlotPage(meta.generation), encodeMetaPage(meta, this.ctx));
    this.sync();
    this.space.beginTransaction(meta.generation + 1);
  }

  /** Size of the file in whole pages (it may exceed the committed pageCount after a crash). */
  filePages(): number {
    return Math.floor(fstatSync(this.fd).size / this.pageSize);
  }

  close(): void {
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

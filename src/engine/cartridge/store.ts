/**
 * CartridgeStore: files and directories on top of the catalog B+tree, extent maps and
 * extents (docs/cartridge-format.md §7.2, §7.3, §9), committed by the meta-page flip (§4).
 * Changes are invisible on disk until `commit`; closing without it discards them.
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import { type BlockPointer, isNullPointer } from './block-pointer.js';
import { BTree } from './btree.js';
import { bulkBuild } from './btree-bulk.js';
import { checkTree } from './btree-check.js';
import { type CartridgeFile, type CreateOptions, type OpenOptions, closeCartridgeFile, commitCartridgeFile, createCartridgeFile, openCartridgeFile } from './cartridge-file.js';
import { ROOT_DIRECTORY_ID, ROOT_ENTRY_KEY, childrenRange, decodeCatalogKey, encodeCatalogKey } from './catalog-key.js';
import { type ExtentContext, compressExtent, compressExtentSync, decompressExtent, openExtent, sealExtent } from './extent-codec.js';
import { EXTENT_RECORD_SIZE, MAX_EXTENT_LOGICAL, type ExtentRecord, decodeExtentMapKey, decodeExtentRecord, encodeExtentMapKey, encodeExtentRecord } from './extent-record.js';
import { type InodeRecord, InodeKind, MAX_INLINE_BYTES, decodeInodeRecord, encodeInodeRecord } from './inode-record.js';
import { PageType } from './page.js';
import { Compression, type CompressionId } from './superblock.js';
import { readExtent } from './extent-cache.js';
import { isAllZero, writeExtents } from './extent-writer.js';
import { type SnapshotRecord, decodeSnapshotRecord, encodeSnapshotRecord } from './snapshot-record.js';
import { validateName } from './catalog-key.js';
import { rewrapMasterKey } from './key-hierarchy.js';
import { freeCatalogNewerThan, reserveCatalog } from './snapshot-restore.js';
import { IncompatFeature } from './superblock.js';
import { PACK_FILE_MAX, PACK_INLINE_MAX, PackWriter, packEntry } from './packs.js';
import { copyBytes } from '../../io/shared-copy.js';

export interface StoreEntry {
  name: string;
  kind: 'directory' | 'file';
  size: number;
  mtimeMs: number;
}

/** File bytes a synchronous write takes (the Volume's FileDataSource has this shape). */
export interface StoreDataSource {
  size: number;
  read(buf: Uint8Array, length: number, position: number): void;
  /** See FileDataSource.nextData: lets whole extents of a hole be skipped unread. */
  nextData?(position: number): number;
}

export interface StoreWriteOptions {
  /** Overrides the image's default compression (cp --compress). */
  compression?: CompressionId;
  mtimeMs?: number;
  /** Called with the bytes written so far. */
  onProgress?: (bytes: number) => void;
}

export interface StoreOptions {
  /** Fixed clock for reproducible images (ms since the epoch). */
  nowMs?: number;
  /** Opens this snapshot's catalog, read-only (IMAGE@NAME). */
  snapshot?: string;
  /** Logical bytes per extent (64 KiB to 1 MiB). */
  extentSize?: number;
}

/** Largest file `readFile` returns whole (a Node Buffer's limit); larger files need ranged reads. */
export const MAX_WHOLE_READ = 2 ** 31 - 1;

function splitPath(path: string): string[] {
  return path.split('/').filter((part) => part.length > 0);
}

export class CartridgeStore {
  readonly file: CartridgeFile;
  private catalog: BTree;
  private readonly snapshots: BTree;
  private nextInodeId: number;
  private fileCount: number;
  private readonly nowMs: number | undefined;
  private readonly extentSize: number;
  /** Small files go into packs (§7.5) only in images with PACKED_FILES; 1.0 images keep the 1.0 layout. */
  private readonly packing: boolean;
  private readonly packs: PackWriter;
  private lastParent: { path: string; inode: InodeRecord } | null = null;

  private constructor(file: CartridgeFile, options: StoreOptions) {
    this.file = file;
    file.pager.combineWrites = true;
    this.catalog = new BTree(file.pager, PageType.CATALOG_NODE, file.meta.catalogRoot);
    this.snapshots = new BTree(file.pager, PageType.SNAPSHOT_NODE, file.meta.snapshotRoot);
    this.nextInodeId = file.meta.nextInodeId;
    this.fileCount = file.meta.fileCount;
    // §8: pages a snapshot can reach are never handed out while it exists.
    file.pager.space.setSnapshotGenerations(this.listSnapshots().map((s) => s.generation));
    if (options.snapshot !== undefined) {
      const snapshot = this.findSnapshot(options.snapshot);
      this.catalog = new BTree(file.pager, PageType.CATALOG_NODE, snapshot.catalogRoot);
      file.writable = false;
    }
    this.nowMs = options.nowMs;
    this.extentSize = options.extentSize ?? MAX_EXTENT_LOGICAL;
    if (this.extentSize < 65536 || this.extentSize > MAX_EXTENT_LOGICAL) throw new Error(`extent size ${this.extentSize} outside 64 KiB..1 MiB`);
    this.packing = (file.superblock.incompatFeatures & IncompatFeature.PACKED_FILES) !== 0;
    this.packs = new PackWriter(file.pager, () => this.extentContext, file.superblock.compressionLevel || 3, () => this.nextInodeId++);
  }

  /** mkfs: a new image holding an empty root directory. */
  static create(path: string, options: CreateOptions & StoreOptions = {}): CartridgeStore {
    const file = createCartridgeFile(path, options);
    const store = new CartridgeStore(file, options);
    store.catalog.put(ROOT_ENTRY_KEY, encodeInodeRecord({ id: ROOT_DIRECTORY_ID, kind: InodeKind.DIRECTORY, permissions: 0, size: 0, mtimeMs: store.now(), data: { mode: 'empty' } }));
    store.commit();
    return store;
  }

  static open(path: string, options: OpenOptions & StoreOptions = {}): CartridgeStore {
    return new CartridgeStore(openCartridgeFile(path, options), options);
  }

  get generation(): number {
    return this.file.meta.generation;
  }

  private now(): number {
    return this.nowMs ?? Date.now();
  }

  private get extentContext(): ExtentContext {
    const sb = this.file.superblock;
    return { pageSize: sb.pageSize, checksumAlgorithm: sb.checksumAlgorithm, uuid: sb.uuid, dataKey: this.file.keys ? this.file.keys.data : null };
  }

  private requireWritable(): void {
    if (!this.file.writable) throw new DiskkitError(ErrorCode.UNSUPPORTED, 'image was opened read-only', { context: { path: this.file.path } });
  }

  /** Walks `path` from the root; each step is one B+tree lookup. */
  private resolve(path: string): { key: Uint8Array; inode: InodeRecord } {
    const names = splitPath(path);
    // The root's own entry is read only when the root itself is asked for: its id is
    // fixed (§7.2), and skipping it saves one descent of every lookup.
    if (names.length === 0) return { key: ROOT_ENTRY_KEY, inode: this.lookup(ROOT_ENTRY_KEY, '/') };
    let key: Uint8Array = ROOT_ENTRY_KEY;
    let inode: InodeRecord | null = null;
    for (const name of names) {
      if (inode && inode.kind !== InodeKind.DIRECTORY) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, `${path}: not a directory`, { context: { path } });
      key = encodeCatalogKey(inode ? inode.id : ROOT_DIRECTORY_ID, name);
      inode = this.lookup(key, path);
    }
    return { key, inode: inode! };
  }

  private lookup(key: Uint8Array, path: string): InodeRecord {
    const value = this.catalog.get(key);
    if (!value) throw new DiskkitError(ErrorCode.NOT_FOUND, `${path}: no such file or directory`, { context: { path } });
    return decodeInodeRecord(value);
  }

  /** The parent directory's inode and the new entry's key. */
  private parentOf(path: string): { parent: InodeRecord; key: Uint8Array; name: string } {
    const parts = splitPath(path);
    const name = parts.pop();
    if (name === undefined) throw new DiskkitError(ErrorCode.INVALID_MOVE, 'the root directory cannot be replaced', { context: { path } });
    const dir = parts.join('/');
    // cp -r writes a directory's files one after another: its inode is looked up once.
    // Only remove, rename and restore can change what a directory path names.
    let parent: InodeRecord;
    if (this.lastParent && this.lastParent.path === dir) parent = this.lastParent.inode;
    else {
      parent = this.resolve(dir).inode;
      this.lastParent = { path: dir, inode: parent };
    }
    if (parent.kind !== InodeKind.DIRECTORY) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, `${parts.join('/')}: not a directory`, { context: { path } });
    return { parent, key: encodeCatalogKey(parent.id, name), name };
  }

  stat(path: string): InodeRecord {
    return this.resolve(path).inode;
  }

  exists(path: string): boolean {
    try {
      this.resolve(path);
      return true;
    } catch (error) {
      if (error instanceof DiskkitError && error.code === ErrorCode.NOT_FOUND) return false;
      throw error;
    }
  }

  /** A directory's entries in name order: one range scan of the catalog. */
  list(path: string): StoreEntry[] {
    const { inode } = this.resolve(path);
    if (inode.kind !== InodeKind.DIRECTORY) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, `${path}: not a directory`, { context: { path } });
    const { from, to } = childrenRange(inode.id);
    return [...this.catalog.range(from, to)].map(([key, value]) => {
      const child = decodeInodeRecord(value);
      return { name: decodeCatalogKey(key).name, kind: child.kind === InodeKind.DIRECTORY ? 'directory' : 'file', size: child.size, mtimeMs: child.mtimeMs };
    });
  }

  mkdir(path: string, mtimeMs?: number): void {
    this.requireWritable();
    const { key } = this.parentOf(path);
    if (this.catalog.get(key)) throw new DiskkitError(ErrorCode.EXISTS, `${path}: already exists`, { context: { path } });
    this.catalog.put(key, encodeInodeRecord({ id: this.nextInodeId++, kind: InodeKind.DIRECTORY, permissions: 0, size: 0, mtimeMs: mtimeMs ?? this.now(), data: { mode: 'empty' } }));
    this.fileCount++;
  }

  /** Creates or replaces a file with `data`, compressed with the image default unless told otherwise. */
  async writeFile(path: string, data: Uint8Array, compression?: CompressionId): Promise<void> {
    this.requireWritable();
    // Files a pack or one extent holds take the synchronous path (no zstd worker to wait for).
    if (this.packing && data.length <= this.extentSize) {
      this.writeFileFrom(path, { size: data.length, read: (buf, length, position) => buf.set(data.subarray(position, position + length)) }, { compression });
      return;
    }
    const { key } = this.parentOf(path);
    const existing = this.catalog.get(key);
    let id = this.nextInodeId;
    if (existing) {
      const old = decodeInodeRecord(existing);
      if (old.kind === InodeKind.DIRECTORY) throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, `${path}: is a directory`, { context: { path } });
      this.freeData(old);
      id = old.id;
    } else {
      this.nextInodeId++;
      this.fileCount++;
    }
    const inode: InodeRecord = { id, kind: InodeKind.FILE, permissions: 0, size: data.length, mtimeMs: this.now(), data: { mode: 'empty' } };
    if (data.length > 0 && data.length <= MAX_INLINE_BYTES) inode.data = { mode: 'inline', bytes: data.slice() };
    else if (data.length > MAX_INLINE_BYTES) {
      const root = await this.writeExtents(data, compression ?? this.file.superblock.defaultCompression);
      inode.data = isNullPointer(root) ? { mode: 'empty' } : { mode: 'extent-map', root };
    }
    this.catalog.put(key, encodeInodeRecord(inode));
  }

  /** Extents of `extentSize` (all-zero runs become holes), then the file's extent map built bottom-up. */
  private async writeExtents(data: Uint8Array, compression: CompressionId): Promise<BlockPointer> {
    const pager = this.file.pager;
    const entries: [Uint8Array, Uint8Array][] = [];
    for (let offset = 0; offset < data.length; offset += this.extentSize) {
      const chunk = data.subarray(offset, Math.min(data.length, offset + this.extentSize));
      if (isAllZero(chunk)) continue;
      const compressed = await compressExtent(chunk, compression, pager.pageSize, this.file.superblock.compressionLevel || 3);
      const address = pager.allocatePages(Math.ceil(compressed.bytes.length / pager.pageSize));
      const { stored, record } = sealExtent(compressed, address, pager.generation, this.extentContext);
      pager.writeRaw(address, stored);
      entries.push([encodeExtentMapKey(offset), encodeExtentRecord(record)]);
    }
    return bulkBuild(pager, PageType.EXTENT_MAP_NODE, entries);
  }

  /**
   * Synchronous write from a reader (the Volume's writeFile, cp between images): the
   * file is read one extent at a time, so its size is not bounded by memory. Creates or
   * replaces `path`; returns the new inode.
   */
  writeFileFrom(path: string, source: StoreDataSource, options: StoreWriteOptions = {}): InodeRecord {
    this.requireWritable();
    const { key } = this.parentOf(path);
    const existing = this.catalog.get(key);
    let old: InodeRecord | null = null;
    if (existing) {
      old = decodeInodeRecord(existing);
      if (old.kind === InodeKind.DIRECTORY) throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, `${path}: is a directory`, { context: { path } });
    }
    const data = this.storeData(source, options);
    if (old) this.freeData(old);
    else this.fileCount++;
    const inode: InodeRecord = { id: old ? old.id : this.nextInodeId++, kind: InodeKind.FILE, permissions: 0, size: source.size, mtimeMs: options.mtimeMs ?? this.now(), data };
    this.catalog.put(key, encodeInodeRecord(inode));
    return inode;
  }

  /**
   * Writes a file's bytes (inline, or extents plus an extent map built bottom-up) and
   * returns the inode data that names them; nothing enters the catalog. Used by
   * writeFileFrom and by the bulk import, which writes catalog leaves itself.
   */
  storeData(source: StoreDataSource, options: StoreWriteOptions = {}): InodeRecord['data'] {
    this.requireWritable();
    if (source.size === 0) return { mode: 'empty' };
    if (source.size <= (this.packing ? PACK_INLINE_MAX : MAX_INLINE_BYTES)) {
      const bytes = new Uint8Array(source.size);
      source.read(bytes, bytes.length, 0);
      return { mode: 'inline', bytes };
    }
    const pager = this.file.pager;
    const compression = options.compression ?? this.file.superblock.defaultCompression;
    const level = this.file.superblock.compressionLevel || 3;
    if (this.packing && source.size <= PACK_FILE_MAX) {
      const { packId, offset } = this.packs.add(source.size, compression, (buf, length, position) => source.read(buf, length, position));
      options.onProgress?.(source.size);
      return { mode: 'packed', packId, offset };
    }
    // A file that fails part way (no space, an unreadable source) gives its pages back.
    return pager.undoable((): InodeRecord['data'] => {
      const entries = writeExtents(pager, this.extentContext, source, { extentSize: this.extentSize, compression, level, onProgress: options.onProgress });
      // One extent at offset 0: its record goes in the inode, no extent-map page (§7.2 mode 2).
      if (this.packing && entries.length === 1 && source.size <= this.extentSize) return { mode: 'extent', record: entries[0]![1] };
      const root = bulkBuild(pager, PageType.EXTENT_MAP_NODE, entries);
      return isNullPointer(root) ? { mode: 'empty' } : { mode: 'extent-map', root };
    });
  }

  /** storeData for bytes in memory (a bulk import's small files): no reader object per file. */
  storeBytes(bytes: Uint8Array, compression?: CompressionId): InodeRecord['data'] {
    const size = bytes.length;
    if (this.packing && size > PACK_INLINE_MAX && size <= PACK_FILE_MAX && this.file.writable) {
      const { packId, offset } = this.packs.add(size, compression ?? this.file.superblock.defaultCompression, (buf) => copyBytes(buf, bytes));
      return { mode: 'packed', packId, offset };
    }
    return this.storeData({ size, read: (buf, length, position) => copyBytes(buf, bytes.subarray(position, position + length)) }, { compression });
  }

  /** A directory's entries with their full inode records, in name order (the Volume's listing). */
  children(directoryId: number): { name: string; inode: InodeRecord }[] {
    const { from, to } = childrenRange(directoryId);
    const entries: { name: string; inode: InodeRecord }[] = [];
    this.catalog.forEachInRange(from, to, (key, value) => {
      entries.push({ name: decodeCatalogKey(key).name, inode: decodeInodeRecord(value) });
    });
    return entries;
  }

  /** The inode of entry `name` in directory `directoryId`, or null. */
  child(directoryId: number, name: string): InodeRecord | null {
    const value = this.catalog.get(encodeCatalogKey(directoryId, name));
    return value ? decodeInodeRecord(value) : null;
  }

  /**
   * Replaces a catalog that holds only the root directory with one built bottom-up
   * (§7.1 bulk build) from `entries` in key order, the root entry included; the old
   * root leaf is freed. For imports into a new image (mkfs --from). `counts` is asked
   * once `entries` is drained (a generator knows them only then).
   */
  adoptCatalog(entries: Iterable<readonly [Uint8Array, Uint8Array]>, counts: () => { fileCount: number; nextInodeId?: number }): void {
    this.requireWritable();
    const { from, to } = childrenRange(ROOT_DIRECTORY_ID);
    if (!this.catalog.range(from, to).next().done) throw new DiskkitError(ErrorCode.UNSUPPORTED, 'a bulk import needs an empty image', { context: { path: this.file.path } });
    const old = this.catalog.flush();
    const pages = checkTree(this.file.pager, PageType.CATALOG_NODE, old).pages;
    const root = bulkBuild(this.file.pager, PageType.CATALOG_NODE, entries);
    for (const [address, generation] of pages) this.file.pager.freePages(address, 1, generation);
    this.catalog = new BTree(this.file.pager, PageType.CATALOG_NODE, root);
    this.lastParent = null;
    // Pack keys sort right after the root entry: they enter now, not in the stream.
    this.packs.putEntries(this.catalog);
    const { fileCount, nextInodeId } = counts();
    this.fileCount = fileCount;
    // Entries built with ids of their own (not from newInodeId) say where the counter must resume.
    this.nextInodeId = Math.max(this.nextInodeId, nextInodeId ?? 0);
  }

  /** The root entry's value when the catalog holds nothing else (no entry, no pack), else null: a bulk import may then replace the catalog. */
  emptyCatalogRoot(): Uint8Array | null {
    const entries = this.catalog.range();
    const first = entries.next();
    if (first.done || Buffer.compare(first.value[0], ROOT_ENTRY_KEY) !== 0 || !entries.next().done) return null;
    return first.value[1];
  }

  /** A new inode id (never reused): for writers that build catalog entries themselves (bulk import). */
  newInodeId(): number {
    return this.nextInodeId++;
  }

  /** Catalog entries (statistics, as the meta page will record them at the next commit). */
  get entryCount(): number {
    return this.fileCount;
  }

  /** Returns a file's extents and extent-map pages to free space. */
  private freeData(inode: InodeRecord): void {
    const pager = this.file.pager;
    if (inode.data.mode === 'packed') return this.packs.unlink(inode.data.packId, this.catalog);
    if (inode.data.mode === 'extent') {
      const record = decodeExtentRecord(inode.data.record, 0, pager.pageSize, pager.space.pageCount);
      return pager.freePages(record.address, record.pageCount, record.generation);
    }
    if (inode.data.mode !== 'extent-map') return;
    const root = inode.data.root;
    const map = new BTree(pager, PageType.EXTENT_MAP_NODE, root);
    for (const [, value] of map.range()) {
      const record = decodeExtentRecord(value, 0, pager.pageSize, pager.space.pageCount);
      pager.freePages(record.address, record.pageCount, record.generation);
    }
    const check = checkTree(pager, PageType.EXTENT_MAP_NODE, root);
    if (check.problems.length > 0) {
      const first = check.problems[0]!;
      throw new DiskkitError(ErrorCode.CORRUPT, `page ${first.page}: ${first.message}`, { context: { page: first.page } });
    }
    for (const [address, generation] of check.pages) pager.freePages(address, 1, generation);
  }

  async readFile(path: string): Promise<Uint8Array> {
    const { inode } = this.resolve(path);
    if (inode.kind === InodeKind.DIRECTORY) throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, `${path}: is a directory`, { context: { path } });
    if (inode.size > MAX_WHOLE_READ) throw new DiskkitError(ErrorCode.LIMIT, `${path}: ${inode.size} bytes is too large to read whole`, { context: { path, size: inode.size } });
    if (inode.data.mode === 'inline') return inode.data.bytes.slice();
    const out = new Uint8Array(inode.size);
    if (inode.data.mode === 'packed' || inode.data.mode === 'extent') {
      const bytes = inode.data.mode === 'packed' ? this.packBytes(inode.data.packId).subarray(inode.data.offset) : this.extentBytes(inode.data.record);
      if (bytes.length < inode.size) throw new DiskkitError(ErrorCode.CORRUPT, `${path}: ${inode.size} bytes claimed, ${bytes.length} stored`, { context: { path } });
      out.set(bytes.subarray(0, inode.size));
      return out;
    }
    if (inode.data.mode !== 'extent-map') return out;
    const pager = this.file.pager;
    const map = new BTree(pager, PageType.EXTENT_MAP_NODE, inode.data.root);
    let end = 0;
    for (const [key, value] of map.range()) {
      const offset = decodeExtentMapKey(key);
      if (offset < 0 || value.length !== EXTENT_RECORD_SIZE || offset < end) {
        throw new DiskkitError(ErrorCode.CORRUPT, `${path}: extent map entries overlap or are malformed`, { context: { path, offset } });
      }
      const record = decodeExtentRecord(value, 0, pager.pageSize, pager.space.pageCount);
      const bytes = record.compression === Compression.ZSTD ? await decompressExtent(openExtent(pager.readRaw(record.address, record.pageCount), record, this.extentContext), record) : readExtent(pager, record, this.extentContext);
      // Bytes past the file size are never returned (§11 I6).
      if (offset < out.length) out.set(bytes.subarray(0, Math.max(0, out.length - offset)), offset);
      end = offset + record.logicalLength;
    }
    return out;
  }

  /** Removes a file, or an empty directory. */
  remove(path: string): void {
    this.requireWritable();
    this.lastParent = null;
    const { key, inode } = this.resolve(path);
    if (key === ROOT_ENTRY_KEY) throw new DiskkitError(ErrorCode.INVALID_MOVE, 'the root directory cannot be removed', { context: { path } });
    if (inode.kind === InodeKind.DIRECTORY) {
      const { from, to } = childrenRange(inode.id);
      if (!this.catalog.range(from, to).next().done) throw new DiskkitError(ErrorCode.NOT_EMPTY, `${path}: directory not empty`, { context: { path } });
    }
    this.freeData(inode);
    this.catalog.delete(key);
    this.fileCount--;
  }

  /**
   * Moves or renames a file or directory: one catalog entry changes key, a directory's
   * children keep their parent id (§7.2). An existing file at the destination is replaced;
   * a directory cannot move into itself.
   */
  rename(from: string, to: string): void {
    this.requireWritable();
    this.lastParent = null;
    const source = this.resolve(from);
    if (source.key === ROOT_ENTRY_KEY) throw new DiskkitError(ErrorCode.INVALID_MOVE, 'the root directory cannot be moved', { context: { path: from } });
    const parts = splitPath(to);
    const name = parts.pop();
    if (name === undefined) throw new DiskkitError(ErrorCode.INVALID_MOVE, 'the root directory cannot be replaced', { context: { path: to } });
    let parent = this.lookup(ROOT_ENTRY_KEY, '/');
    for (const part of parts) {
      if (parent.kind !== InodeKind.DIRECTORY) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, `${to}: not a directory`, { context: { path: to } });
      parent = this.lookup(encodeCatalogKey(parent.id, part), to);
      if (parent.id === source.inode.id) throw new DiskkitError(ErrorCode.INVALID_MOVE, `${from} cannot move into itself`, { context: { from, to } });
    }
    if (parent.kind !== InodeKind.DIRECTORY) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, `${to}: not a directory`, { context: { path: to } });
    const key = encodeCatalogKey(parent.id, name);
    if (Buffer.compare(key, source.key) === 0) return;
    const existing = this.catalog.get(key);
    if (existing) {
      const target = decodeInodeRecord(existing);
      if (target.kind === InodeKind.DIRECTORY || source.inode.kind === InodeKind.DIRECTORY) {
        throw new DiskkitError(ErrorCode.EXISTS, `${to}: already exists`, { context: { path: to } });
      }
      this.freeData(target);
      this.fileCount--;
    }
    const value = this.catalog.get(source.key)!;
    this.catalog.delete(source.key);
    this.catalog.put(key, value);
  }

  /** The logical bytes of pack `packId` (open, written this session, or committed). */
  packBytes(packId: number): Uint8Array {
    return this.packs.bytes(packId, this.catalog);
  }

  /** The extent of committed pack `packId`, from its catalog entry (a read-only store has no other packs). */
  packRecord(packId: number): ExtentRecord {
    return packEntry(this.file.pager, this.catalog, packId).record;
  }

  private extentBytes(recordBytes: Uint8Array): Uint8Array {
    const pager = this.file.pager;
    return readExtent(pager, decodeExtentRecord(recordBytes, 0, pager.pageSize, pager.space.pageCount), this.extentContext);
  }

  /** Makes every change since the last commit durable, atomically (§4). */
  commit(): void {
    this.requireWritable();
    this.packs.putEntries(this.catalog);
    const root = this.catalog.flush();
    const snapshotRoot = this.snapshots.flush();
    commitCartridgeFile(this.file, { catalogRoot: root, snapshotRoot, nextInodeId: this.nextInodeId, fileCount: this.fileCount, commitMs: this.nowMs ?? Date.now() });
    // Snapshots deleted in the transaction that just committed stop pinning from the next one on.
    this.file.pager.space.setSnapshotGenerations(this.listSnapshots().map((s) => s.generation));
  }

  /**
   * `key change` (§10.1): re-wraps the master key under a new passphrase and rewrites no
   * data. Commits twice, so that both meta slots carry the new wrap and the old passphrase
   * opens neither; pending changes are committed with it.
   */
  changePassphrase(oldPassphrase: string, newPassphrase: string): void {
    this.requireWritable();
    if (!this.file.keys) throw new DiskkitError(ErrorCode.UNSUPPORTED, 'image is not encrypted', { context: { path: this.file.path } });
    const keyBlock = rewrapMasterKey(this.file.meta.keyBlock, oldPassphrase, newPassphrase, this.file.superblock.uuid);
    this.file.meta = { ...this.file.meta, keyBlock };
    this.commit();
    this.commit();
  }

  /**
   * Pins the last commit under `name` (§13): one entry in the snapshot table, whatever the
   * image size. Takes effect with the next commit, like every change.
   */
  createSnapshot(name: string): void {
    this.requireWritable();
    const key = validateName(name);
    if (this.snapshots.get(key)) throw new DiskkitError(ErrorCode.EXISTS, `snapshot ${name} already exists`, { context: { snapshot: name } });
    const meta = this.file.meta;
    const record: SnapshotRecord = { generation: meta.generation, createdMs: this.now(), fileCount: meta.fileCount, nextInodeId: meta.nextInodeId, catalogRoot: meta.catalogRoot };
    this.snapshots.put(key, encodeSnapshotRecord(record));
    this.file.pager.space.pinGeneration(record.generation);
  }

  /**
   * Drops a snapshot; the pages only it held become reusable by the §8 rule, without a
   * walk, once the deletion has committed: until then a crash falls back to a tree that
   * still has the snapshot, so its pages stay pinned for the rest of this transaction.
   */
  deleteSnapshot(name: string): void {
    this.requireWritable();
    this.findSnapshot(name);
    this.snapshots.delete(validateName(name));
  }

  /**
   * Makes snapshot `name` the current tree (§13): pages of the current tree born after
   * it are freed, its own pages are live again. The snapshot stays. Takes effect with
   * the next commit, like every change.
   */
  restoreSnapshot(name: string): void {
    this.requireWritable();
    this.lastParent = null;
    const snapshot = this.findSnapshot(name);
    // Packs written in this transaction enter the current tree first, so the walk below frees them.
    this.packs.putEntries(this.catalog);
    const current = this.catalog.flush();
    freeCatalogNewerThan(this.file.pager, current, snapshot.generation);
    reserveCatalog(this.file.pager, snapshot.catalogRoot);
    this.catalog = new BTree(this.file.pager, PageType.CATALOG_NODE, snapshot.catalogRoot);
    this.fileCount = snapshot.fileCount;
    // Ids are never reused: files made after the snapshot keep theirs retired.
    this.nextInodeId = Math.max(this.nextInodeId, snapshot.nextInodeId);
  }

  listSnapshots(): (SnapshotRecord & { name: string })[] {
    return [...this.snapshots.range()].map(([key, value]) => ({ name: new TextDecoder().decode(key), ...decodeSnapshotRecord(value) }));
  }

  private findSnapshot(name: string): SnapshotRecord {
    const value = this.snapshots.get(validateName(name));
    if (!value) throw new DiskkitError(ErrorCode.NOT_FOUND, `no snapshot named ${name}`, { context: { snapshot: name } });
    return decodeSnapshotRecord(value);
  }

  close(): void {
    closeCartridgeFile(this.file);
  }
}

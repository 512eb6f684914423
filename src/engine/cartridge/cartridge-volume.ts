/**
 * A Cartridge image behind the Volume interface (src/engine/volume.ts), so every
 * command works on `.cart` files: paths resolve through the catalog B+tree, file bytes
 * come through a verifying reader (file-reader.ts), writes go to the store and become
 * durable only at `commit()` (the meta-page flip, docs/cartridge-format.md §4).
 *
 * The file grows while it is written, and a BlockSource has the size it was opened
 * with, so the pager does not write through the source: it shares the source's file
 * descriptor (a Cartridge must therefore be a whole image file, not a partition) and
 * owns the file's length, and the source stays the handle that opened it and closes
 * it. This also keeps Cartridge writes out of the FAT rollback journal, which watches
 * the source's writes: copy-on-write with a meta flip needs no journal (§4).
 *
 * No raw extents (`capabilities.rawExtents` false), even for extents stored plain and
 * unencrypted: every read must verify the checksum its pointer carries (§6, §9.1),
 * which a copy straight from the image would skip, so a corrupt extent could reach the
 * output as wrong bytes. Verification costs about 1 µs per 4 KiB with CRC-32.
 */
import type { BlockSource } from '../../io/block-source.js';
import { DiskkitError, ErrorCode, type DiskkitWarning } from '../errors.js';
import type { EntryInfo, FileDataSource, HostImportOptions, HostImportResult, ListOptions, Volume, VolumeCapabilities, VolumeInfo, WriteFileOptions } from '../volume.js';
import { joinPath } from '../volume-path.js';
import { importHostTree } from './bulk-import.js';
import { passphraseFor } from '../passphrase.js';
import { CartridgeStore, MAX_WHOLE_READ } from './store.js';
import { ChecksumAlgorithm } from './checksum.js';
import { type ExtentContext } from './extent-codec.js';
import { openCartridgeReader } from './file-reader.js';
import { PackScratch } from './pack-scratch.js';
import { readFreeList } from './freelist-page.js';
import { countFreePages } from './free-space.js';
import { type InodeRecord, InodeKind } from './inode-record.js';
import { Cipher, Compression, type CompressionId, decodeSuperblock } from './superblock.js';
import { acquireWriterLock } from './writer-lock.js';

export interface CartridgeOpenOptions {
  writable?: boolean;
  /** Opens this snapshot's catalog, read-only (IMAGE@NAME:/PATH). */
  snapshot?: string;
}

const COMPRESSION_NAMES: Record<number, string> = { [Compression.NONE]: 'none', [Compression.LZ4]: 'lz4', [Compression.ZSTD]: 'zstd' };

/** 'lz4' | 'zstd' | 'none' → the format's id, or E_USAGE. */
export function compressionId(name: string): CompressionId {
  const found = Object.entries(COMPRESSION_NAMES).find(([, n]) => n === name.toLowerCase());
  if (!found) throw new DiskkitError(ErrorCode.USAGE, `unknown compression '${name}' (lz4, zstd or none)`, { context: { compression: name } });
  return Number(found[0]) as CompressionId;
}

export function compressionName(id: number): string {
  return COMPRESSION_NAMES[id] ?? `unknown (${id})`;
}

function normalize(path: string): string {
  const parts = path.split('/').filter((p) => p.length > 0 && p !== '.');
  if (parts.includes('..')) throw new DiskkitError(ErrorCode.BAD_NAME, `${path}: '..' is not allowed in an image path`, { context: { path } });
  return '/' + parts.join('/');
}

/** A name a writer can make (§7.2); others (a hostile image's) would address something else. */
function isPathName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

function nameOf(path: string): string {
  return path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1);
}

function readerOfBytes(bytes: Uint8Array): FileDataSource {
  return {
    size: bytes.length,
    read(buf, length, position) {
      buf.set(bytes.subarray(position, position + length), 0);
    },
  };
}

/** Where entryOf leaves an entry's inode (a symbol key: JSON output and Object.keys do not see it). */
const ENTRY_INODE = Symbol('cartridge inode');
type EntryWithInode = EntryInfo & { [ENTRY_INODE]?: { volume: CartridgeVolume; inode: InodeRecord; epoch: number } };

export class CartridgeVolume implements Volume {
  readonly format = 'cartridge';
  readonly capabilities: VolumeCapabilities;
  readonly warnings: DiskkitWarning[] = [];
  partition: Volume['partition'] = null;
  private dirty = false;
  /** Directory id → the path it was listed at (loop detection in list). */
  private readonly listedDirectories = new Map<number, string>();
  /**
   * The inode behind each entry this volume handed out, valid until the next write: a
   * cp -r out opens every listed file, and a path walk per file (one catalog descent per
   * component) cost more than the read of a small file.
   */
  private epoch = 0;

  private constructor(
    readonly source: BlockSource,
    readonly store: CartridgeStore,
    readonly snapshot: string | null,
    private readonly releaseLock: () => void,
  ) {
    this.capabilities = {
      writable: store.file.writable,
      formatWritable: true,
      caseInsensitive: false,
      shortNames: false,
      streams: false,
      hardLinks: false,
      deletedEntries: false,
      snapshots: true,
      encryption: true,
      rawExtents: false,
      compression: true,
    };
  }

  static open(source: BlockSource, options: CartridgeOpenOptions = {}): CartridgeVolume {
    if (source.fd === undefined || source.baseOffset !== 0 || (source.kind !== 'file' && source.kind !== 'block-device')) {
      throw new DiskkitError(ErrorCode.UNSUPPORTED, 'a Cartridge must be a whole image file (it grows as it is written), not a partition or an in-memory source', {
        context: { image: source.name, kind: source.kind },
      });
    }
    const head = new Uint8Array(Math.min(512, source.size));
    source.readAt(head, 0, head.length, 0);
    const superblock = decodeSuperblock(head);
    if (options.writable && options.snapshot !== undefined) {
      throw new DiskkitError(ErrorCode.READ_ONLY, `snapshot ${options.snapshot} is a read-only view: nothing was written`, { context: { image: source.name, snapshot: options.snapshot } });
    }
    if (options.writable && superblock.readOnly) {
      throw new DiskkitError(ErrorCode.READ_ONLY, 'image is sealed (or has features this diskkit only reads): nothing was written', { context: { image: source.name } });
    }
    if (options.writable && !source.writable) throw new DiskkitError(ErrorCode.IO, 'image opened read-only', { context: { image: source.name } });
    let passphrase: string | undefined;
    if (superblock.cipher !== Cipher.NONE) {
      passphrase = passphraseFor(source.name, 'open');
      if (passphrase === undefined) {
        throw new DiskkitError(ErrorCode.BAD_PASSPHRASE, 'image is encrypted and no passphrase was given', {
          context: { image: source.name, reason: 'passphrase-needed' },
          hint: 'set DISKKIT_PASSPHRASE, use --key-file FILE, or run on a terminal to be asked',
        });
      }
    }
    const releaseLock = options.writable ? acquireWriterLock(source.name) : () => {};
    try {
      const store = CartridgeStore.open(source.name, { fd: source.fd, writable: Boolean(options.writable), passphrase, snapshot: options.snapshot });
      return new CartridgeVolume(source, store, options.snapshot ?? null, releaseLock);
    } catch (error) {
      releaseLock();
      throw error;
    }
  }

  /** Made once per superblock and key set, not per file opened (cp -r opens thousands). */
  private context: { superblock: unknown; keys: unknown; value: ExtentContext } | null = null;

  private get extentContext(): ExtentContext {
    const sb = this.store.file.superblock;
    const keys = this.store.file.keys;
    if (this.context && this.context.superblock === sb && this.context.keys === keys) return this.context.value;
    const value = { pageSize: sb.pageSize, checksumAlgorithm: sb.checksumAlgorithm, uuid: sb.uuid, dataKey: keys ? keys.data : null };
    this.context = { superblock: sb, keys, value };
    return value;
  }

  private inodeOf(path: string | EntryInfo): { path: string; inode: InodeRecord } {
    if (typeof path !== 'string') {
      const known = (path as EntryWithInode)[ENTRY_INODE];
      if (known && known.volume === this && known.epoch === this.epoch) return { path: path.path, inode: known.inode };
    }
    const p = typeof path === 'string' ? normalize(path) : path.path;
    return { path: p, inode: this.store.stat(p) };
  }

  private entryOf(path: string, inode: InodeRecord): EntryInfo {
    const dir = inode.kind === InodeKind.DIRECTORY;
    const entry: EntryInfo = { path, name: nameOf(path), shortName: null, type: dir ? 'dir' : 'file', size: dir ? 0 : inode.size, mtime: new Date(inode.mtimeMs), ctime: null, atime: null, attributes: dir ? ['dir'] : [] };
    // A symbol-keyed property rather than a WeakMap: 10,000 weak keys made the collector slow.
    (entry as EntryWithInode)[ENTRY_INODE] = { volume: this, inode, epoch: this.epoch };
    return entry;
  }

  info(): VolumeInfo {
    const file = this.store.file;
    const sb = file.superblock;
    const pageSize = sb.pageSize;
    const totalPages = file.pager.filePages();
    // Free by the §8 reuse rule: pages dropped from the current tree but still reachable from a snapshot are not.
    let freePages = 0;
    let snapshotOnlyPages = 0;
    try {
      const records = readFreeList(file.pager, file.meta.freeListHead, file.meta.pageCount).records;
      const counted = countFreePages(records, file.meta.pageCount, file.meta.generation, this.store.listSnapshots().map((s) => s.generation));
      freePages = counted.reusable;
      snapshotOnlyPages = counted.heldBySnapshots;
    } catch (error) {
      this.warnings.push({ code: error instanceof DiskkitError ? error.code : ErrorCode.CORRUPT, message: `free list unreadable: ${(error as Error).message}` });
    }
    const encrypted = sb.cipher !== Cipher.NONE;
    const snapshots = this.snapshot === null ? this.store.listSnapshots().map((s) => s.name) : [];
    const checksum = sb.checksumAlgorithm === ChecksumAlgorithm.SHA256 ? 'sha256' : 'crc32';
    const compression = compressionName(sb.defaultCompression);
    const uuid = Buffer.from(sb.uuid).toString('hex');
    const details = [
      { label: 'format', value: `Cartridge ${sb.versionMajor}.${sb.versionMinor}${sb.readOnly ? ' (sealed)' : ''}` },
      { label: 'UUID', value: uuid },
      { label: 'page size', value: `${pageSize} bytes` },
      { label: 'pages', value: `${totalPages} (${freePages} free${snapshotOnlyPages > 0 ? `, ${snapshotOnlyPages} kept only for snapshots` : ''})` },
      { label: 'checksum', value: checksum },
      { label: 'compression', value: sb.defaultCompression === Compression.ZSTD ? `zstd level ${sb.compressionLevel}` : compression },
      { label: 'encryption', value: encrypted ? 'AES-256-GCM (scrypt passphrase)' : 'none' },
      { label: 'generation', value: String(file.meta.generation) },
      { label: 'entries', value: String(file.meta.fileCount) },
      { label: 'snapshots', value: this.snapshot !== null ? `viewing snapshot ${this.snapshot}` : snapshots.length === 0 ? 'none' : snapshots.join(', ') },
      { label: 'created', value: new Date(sb.createdMs).toISOString() },
    ];
    return {
      format: 'cartridge',
      totalBytes: totalPages * pageSize,
      freeBytes: freePages * pageSize,
      usedBytes: (totalPages - freePages) * pageSize,
      label: null,
      details,
      version: `${sb.versionMajor}.${sb.versionMinor}`,
      uuid,
      pageSize,
      pageCount: totalPages,
      freePages,
      snapshotOnlyPages,
      checksum,
      compression,
      compressionLevel: sb.compressionLevel,
      encrypted,
      sealed: sb.readOnly,
      generation: file.meta.generation,
      entries: file.meta.fileCount,
      snapshots,
      snapshot: this.snapshot,
      createdMs: sb.createdMs,
    };
  }

  stat(path: string): EntryInfo {
    const { path: p, inode } = this.inodeOf(path);
    return this.entryOf(p, inode);
  }

  list(path: string | EntryInfo, _options: ListOptions = {}): EntryInfo[] {
    const { path: p, inode } = this.inodeOf(path);
    if (inode.kind !== InodeKind.DIRECTORY) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, `${p}: not a directory`, { context: { path: p } });
    // A directory has one name (no hard links): met under a second path, it is a loop
    // or a shared subtree in a hostile image, and descending again would never end.
    const seenAt = this.listedDirectories.get(inode.id);
    if (seenAt !== undefined && seenAt !== p) {
      throw new DiskkitError(ErrorCode.CORRUPT, `${p}: directory ${inode.id} is already listed as ${seenAt} (a loop or a second name): not descended into`, { context: { path: p, inode: inode.id } });
    }
    this.listedDirectories.set(inode.id, p);
    const entries: EntryInfo[] = [];
    for (const { name, inode: child } of this.store.children(inode.id)) {
      // Names a writer cannot make (§7.2) would address something else on the host or in the image.
      if (!isPathName(name)) {
        this.warnings.push({ code: ErrorCode.BAD_NAME, message: `${p}: entry with an invalid name ${JSON.stringify(name)} skipped`, context: { path: p, inode: child.id } });
        continue;
      }
      entries.push(this.entryOf(joinPath(p, name), child));
    }
    return entries;
  }

  openFile(path: string | EntryInfo): FileDataSource {
    const { path: p, inode } = this.inodeOf(path);
    if (inode.kind === InodeKind.DIRECTORY) throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, `${p}: is a directory`, { context: { path: p } });
    return openCartridgeReader(this.store.file.pager, this.extentContext, inode, p, this.packReader);
  }

  private readonly packReader = (packId: number): Uint8Array => this.packBytes(packId);

  /** The last pack read, until the next write: neighbours in a directory share packs, and each lookup decodes the pack's entry. */
  private lastPack: { id: number; epoch: number; bytes: Uint8Array } | null = null;

  /** Packs decoded in order into one buffer (read-only volumes: a writer's packs may be open or unwritten). */
  private packScratch: PackScratch | null = null;

  private packBytes(packId: number): Uint8Array {
    const last = this.lastPack;
    if (last && last.id === packId && last.epoch === this.epoch) return last.bytes;
    const bytes = this.capabilities.writable
      ? this.store.packBytes(packId)
      : (this.packScratch ??= new PackScratch(this.store.file.pager)).bytes(this.store.packRecord(packId), this.extentContext);
    this.lastPack = { id: packId, epoch: this.epoch, bytes };
    return bytes;
  }

  readFile(path: string | EntryInfo): Buffer {
    const reader = this.openFile(path);
    if (reader.size > MAX_WHOLE_READ) throw new DiskkitError(ErrorCode.LIMIT, `${typeof path === 'string' ? path : path.path}: ${reader.size} bytes is too large to read whole`, { context: { size: reader.size } });
    const out = Buffer.alloc(reader.size);
    reader.read(out, out.length, 0);
    return out;
  }

  nameKey(name: string): string {
    return name;
  }

  private writableStore(): CartridgeStore {
    if (!this.capabilities.writable) throw new DiskkitError(ErrorCode.READ_ONLY, this.snapshot !== null ? `snapshot ${this.snapshot} is a read-only view` : 'image was opened read-only', { context: { image: this.source.name } });
    this.dirty = true;
    this.epoch++;
    // Paths change with writes (mv): loop detection starts over.
    this.listedDirectories.clear();
    return this.store;
  }

  writeFile(path: string, data: Uint8Array | FileDataSource, options: WriteFileOptions = {}): EntryInfo {
    const p = normalize(path);
    if (options.noClobber && this.store.exists(p)) return this.stat(p);
    const store = this.writableStore();
    const source = data instanceof Uint8Array ? readerOfBytes(data) : data;
    const inode = store.writeFileFrom(p, source, {
      compression: options.compression === undefined ? undefined : compressionId(options.compression),
      mtimeMs: options.mtime?.getTime(),
      onProgress: options.onProgress,
    });
    return this.entryOf(p, inode);
  }

  /**
   * cp -r of a host directory into an image that holds nothing but its root: the bulk
   * import (bulk-import.ts) into `/` or into a new directory `/NAME`. Anything else
   * (a fuller image, a deeper destination) returns null and is copied entry by entry.
   */
  importHostTree(hostDir: string, dest: string, options: HostImportOptions): HostImportResult | null {
    const parts = normalize(dest).split('/').filter(Boolean);
    if (parts.length > 1 || !this.capabilities.writable) return null;
    const rootValue = this.store.emptyCatalogRoot();
    if (rootValue === null) return null;
    const store = this.writableStore();
    return importHostTree(store, hostDir, {
      mtimeOf: options.mtimeOf,
      compression: options.compression === undefined ? undefined : compressionId(options.compression),
      into: parts[0],
      rootValue,
      onEntry: options.onEntry,
      reader: options.reader,
    });
  }

  mkdir(path: string, options: { parents?: boolean; mtime?: Date } = {}): EntryInfo {
    const p = normalize(path);
    const store = this.writableStore();
    if (options.parents) {
      const parts = p.split('/').filter(Boolean);
      let at = '';
      for (const part of parts) {
        at += '/' + part;
        const existing = store.exists(at) ? store.stat(at) : null;
        if (existing && existing.kind !== InodeKind.DIRECTORY) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, `${at}: not a directory`, { context: { path: at } });
        if (!existing) store.mkdir(at, options.mtime?.getTime());
      }
      return this.stat(p);
    }
    store.mkdir(p, options.mtime?.getTime());
    return this.stat(p);
  }

  remove(path: string, options: { recursive?: boolean } = {}): void {
    const p = normalize(path);
    const store = this.writableStore();
    if (options.recursive) this.removeChildren(p, new Set());
    store.remove(p);
  }

  /** rm -r: children first, depth first; a directory met twice (hostile loop) stops it. */
  private removeChildren(p: string, seen: Set<number>): void {
    const inode = this.store.stat(p);
    if (inode.kind !== InodeKind.DIRECTORY) return;
    if (seen.has(inode.id)) throw new DiskkitError(ErrorCode.CORRUPT, `${p}: directory ${inode.id} is inside itself`, { context: { path: p, inode: inode.id } });
    seen.add(inode.id);
    // Names first, then removal: the catalog changes under a running range scan otherwise.
    const names = [...this.store.children(inode.id)].map((c) => c.name).filter(isPathName);
    for (const name of names) {
      const child = joinPath(p, name);
      this.removeChildren(child, seen);
      this.store.remove(child);
    }
  }

  rename(from: string, to: string): EntryInfo {
    const target = normalize(to);
    this.writableStore().rename(normalize(from), target);
    return this.stat(target);
  }

  cacheStats(): Record<string, { hits: number; misses: number }> {
    const { hits, misses } = this.store.file.pager.cache.stats;
    const extents = this.store.file.pager.extentCache.stats;
    return { pages: { hits, misses }, extents: { hits: extents.hits, misses: extents.misses } };
  }

  /** Commits the changes since open (one new generation); nothing to do when there are none. */
  commit(): void {
    if (!this.dirty) return;
    this.store.commit();
    this.dirty = false;
  }

  close(): void {
    try {
      this.store.close();
    } finally {
      try {
        this.source.close();
      } finally {
        this.releaseLock();
      }
    }
  }
}

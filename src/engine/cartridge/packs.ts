/**
 * Packs (docs/cartridge-format.md §7.5): small files concatenated into one shared extent,
 * compressed as a whole, named by a catalog entry (parent 0, name 00 ‖ packId BE) that
 * owns the extent and counts the files naming it. Without packs a 2 KiB file costs two
 * whole pages (its extent and its extent-map page); in a pack it costs its compressed
 * bytes, and zstd sees many files' text at once.
 *
 * The writer keeps one open pack in memory; a full pack (or the open one at commit) is
 * compressed, sealed and written at once, but its catalog entry waits until the caller
 * can put it: a bulk import is still streaming catalog leaves bottom-up then, and pack
 * keys sort before every file's key.
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import { type ExtentContext, compressExtentSync, sealExtent } from './extent-codec.js';
import { readExtent } from './extent-cache.js';
import { type ExtentRecord, decodeExtentRecord, encodeExtentRecord } from './extent-record.js';
import { type InodeRecord, InodeKind, decodeInodeRecord, encodeInodeRecord } from './inode-record.js';
import { type Pager } from './pager.js';
import { type CompressionId } from './superblock.js';

/** Files up to this size stay inline in their catalog entry (dataMode 1) when packing. */
export const PACK_INLINE_MAX = 128;
/** Files up to this size go into packs (writer policy, §7.5). */
export const PACK_FILE_MAX = 32 * 1024;
/** Logical bytes a pack holds at most: reading one file decodes this much. */
export const PACK_LOGICAL_MAX = 128 * 1024;

const PACK_KEY_LENGTH = 8 + 1 + 8;

/** Catalog key of pack `packId`: parent 0 ‖ 00 ‖ packId u64 BE. */
export function packKey(packId: number): Uint8Array {
  const key = new Uint8Array(PACK_KEY_LENGTH);
  new DataView(key.buffer).setBigUint64(9, BigInt(packId));
  return key;
}

/** Is `key` a pack's key (§7.5)? Real entries never have parent 0 and a NUL in their name. */
export function isPackKey(key: Uint8Array): boolean {
  if (key.length !== PACK_KEY_LENGTH || key[8] !== 0) return false;
  for (let i = 0; i < 8; i++) if (key[i] !== 0) return false;
  return true;
}

export function packIdOfKey(key: Uint8Array): number {
  return Number(new DataView(key.buffer, key.byteOffset, key.length).getBigUint64(9));
}

export function packInode(packId: number, record: ExtentRecord, links: number): InodeRecord {
  return { id: packId, kind: InodeKind.PACK, permissions: 0, size: record.logicalLength, mtimeMs: 0, data: { mode: 'extent', record: encodeExtentRecord(record) }, links };
}

/** The catalog operations the pack writer needs (the store's catalog B+tree). */
export interface PackCatalog {
  get(key: Uint8Array): Uint8Array | undefined | null;
  put(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
}

interface OpenPack {
  id: number;
  compression: CompressionId;
  bytes: Uint8Array;
  length: number;
  links: number;
}

export class PackWriter {
  private open: OpenPack | null = null;
  /** A sealed pack's buffer, for the next one. */
  private spare: Uint8Array | null = null;
  /** Written packs whose catalog entries are not put yet. */
  private readonly written = new Map<number, { record: ExtentRecord; links: number }>();

  constructor(
    private readonly pager: Pager,
    private readonly ctx: () => ExtentContext,
    private readonly zstdLevel: number,
    /** Hands out a new id (the store's nextInodeId). */
    private readonly newId: () => number,
  ) {}

  /** Copies `size` bytes from `read` into a pack; returns where they are. */
  add(size: number, compression: CompressionId, read: (buf: Uint8Array, length: number, position: number) => void): { packId: number; offset: number } {
    if (size <= 0 || size > PACK_FILE_MAX) throw new Error(`pack of a ${size}-byte file`);
    if (this.open && (this.open.compression !== compression || this.open.length + size > PACK_LOGICAL_MAX)) this.seal();
    if (!this.open) {
      this.open = { id: this.newId(), compression, bytes: this.spare ?? new Uint8Array(PACK_LOGICAL_MAX), length: 0, links: 0 };
      this.spare = null;
    }
    const pack = this.open;
    read(pack.bytes.subarray(pack.length, pack.length + size), size, 0);
    const offset = pack.length;
    pack.length += size;
    pack.links++;
    return { packId: pack.id, offset };
  }

  /** Compresses, seals and writes the open pack (its entry waits for `putEntries`). */
  seal(): void {
    const pack = this.open;
    if (!pack) return;
    this.open = null;
    if (pack.links === 0) return;
    const compressed = compressExtentSync(pack.bytes.subarray(0, pack.length), pack.compression, this.pager.pageSize, this.zstdLevel);
    const address = this.pager.allocatePages(Math.ceil(compressed.bytes.length / this.pager.pageSize));
    const { stored, record } = sealExtent(compressed, address, this.pager.generation, this.ctx());
    this.pager.writeRaw(address, stored);
    this.written.set(pack.id, { record, links: pack.links });
    // writeRaw has copied or written the bytes: the buffer serves the next pack (a fresh
    // zeroed 128 KiB per pack cost page faults in a 10,000-file import).
    this.spare = pack.bytes;
  }

  /** Seals the open pack and puts every written pack's entry into `catalog` (before a commit, after a bulk build). */
  putEntries(catalog: PackCatalog): void {
    this.seal();
    for (const [id, { record, links }] of this.written) catalog.put(packKey(id), encodeInodeRecord(packInode(id, record, links)));
    this.written.clear();
  }

  /** The logical bytes of pack `packId`, wherever it is (open, written, or in `catalog`). */
  bytes(packId: number, catalog: PackCatalog): Uint8Array {
    if (this.open?.id === packId) return this.open.bytes.subarray(0, this.open.length);
    const written = this.written.get(packId);
    if (written) return readExtent(this.pager, written.record, this.ctx());
    return readPack(this.pager, this.ctx(), catalog, packId);
  }

  /** One file naming `packId` is gone (deleted or replaced): at 0 links the pack is freed. */
  unlink(packId: number, catalog: PackCatalog): void {
    if (this.open?.id === packId) {
      this.open.links--;
      return;
    }
    const written = this.written.get(packId);
    if (written) {
      if (--written.links === 0) {
        this.pager.freePages(written.record.address, written.record.pageCount, written.record.generation);
        this.written.delete(packId);
      }
      return;
    }
    const key = packKey(packId);
    const { record, links } = packEntry(this.pager, catalog, packId);
    if (links <= 1) {
      catalog.delete(key);
      this.pager.freePages(record.address, record.pageCount, record.generation);
    } else catalog.put(key, encodeInodeRecord(packInode(packId, record, links - 1)));
  }
}

/** Pack `packId`'s entry in `catalog`: its extent and links. A missing or malformed one is corruption. */
export function packEntry(pager: Pager, catalog: PackCatalog, packId: number): { record: ExtentRecord; links: number } {
  const value = catalog.get(packKey(packId));
  if (!value) throw new DiskkitError(ErrorCode.CORRUPT, `pack ${packId} is missing from the catalog`, { context: { pack: packId } });
  const inode = decodeInodeRecord(value);
  if (inode.kind !== InodeKind.PACK || inode.data.mode !== 'extent' || inode.id !== packId) {
    throw new DiskkitError(ErrorCode.CORRUPT, `pack ${packId}: its catalog entry is not a pack`, { context: { pack: packId } });
  }
  return { record: decodeExtentRecord(inode.data.record, 0, pager.pageSize, pager.space.pageCount), links: inode.links ?? 0 };
}

/** The verified logical bytes of pack `packId` (decoded once, then from the extent cache). */
export function readPack(pager: Pager, ctx: ExtentContext, catalog: PackCatalog, packId: number): Uint8Array {
  return readExtent(pager, packEntry(pager, catalog, packId).record, ctx);
}

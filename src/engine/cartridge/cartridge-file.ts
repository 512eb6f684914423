/**
 * Creating, opening and committing a Cartridge file (docs/cartridge-format.md §3, §4, §8,
 * §10): mkfs writes the superblock and the first meta page; open reads the superblock,
 * picks the valid meta page and, for writing, loads the free list; commit writes the free
 * list and the next meta page. The catalog and snapshot trees are the caller's.
 */
import { closeSync, fstatSync, ftruncateSync, openSync } from 'node:fs';
import { preadUpTo } from '../../io/read-full.js';
import { createHash, randomBytes } from 'node:crypto';
import { DiskkitError, ErrorCode, fromSystemError } from '../errors.js';
import { type BlockPointer } from './block-pointer.js';
import { ChecksumAlgorithm, type ChecksumAlgorithmId } from './checksum.js';
import { readFreeList, writeFreeList } from './freelist-page.js';
import { FreeSpace } from './free-space.js';
import { type ScryptParams, type WorkingKeys, createMasterKey, unlockMasterKey } from './key-hierarchy.js';
export type { WorkingKeys } from './key-hierarchy.js';
import { FIRST_DATA_PAGE, KEY_BLOCK_SIZE, type MetaPage, emptyMeta, selectMetaPage } from './meta-page.js';
import { type PageContext } from './page.js';
import { Pager } from './pager.js';
import { Cipher, Compression, type CompressionId, IncompatFeature, RoCompatFeature, type Superblock, decodeSuperblock, encodeSuperblock } from './superblock.js';
import { writeU64LE } from '../binary.js';

export interface CreateOptions {
  pageSize?: number;
  checksumAlgorithm?: ChecksumAlgorithmId;
  compression?: CompressionId;
  compressionLevel?: number;
  /** Encrypts the image (AES-256-GCM) under this passphrase. */
  passphrase?: string;
  scrypt?: ScryptParams;
  /** Reproducible images: fixed creation time, uuid derived from it (unencrypted only). */
  invariantMs?: number;
  cacheEntries?: number;
  /** false makes a 1.0 image (no PACKED_FILES, §3): what older diskkits wrote; tests use it. */
  packedFiles?: boolean;
}

export interface OpenOptions {
  writable?: boolean;
  /**
   * An already open descriptor of the image (the Volume adapter's BlockSource): used
   * instead of opening `path`, and not closed by closeCartridgeFile. Must be the whole
   * file: pages are addressed from byte 0 and the file grows past its first size.
   */
  fd?: number;
  passphrase?: string;
  /**
   * Keys already unlocked from this image (file.keys of an earlier open): skips the
   * scrypt derivation for a caller that opens one image many times (fsck after a read,
   * the tamper test). Wrong keys make every encrypted page fail its tag.
   */
  keys?: WorkingKeys;
  cacheEntries?: number;
  /**
   * Writable without reading the free list (fsck --repair when the list is damaged, to
   * rebuild it): nothing below pageCount counts as free until the caller frees it, and
   * the old chain is forgotten (its pages are found unreachable and freed).
   */
  skipFreeList?: boolean;
}

export interface CartridgeFile {
  path: string;
  superblock: Superblock;
  /** The committed meta page the file was opened at (or last committed). */
  meta: MetaPage;
  pager: Pager;
  keys: WorkingKeys | null;
  writable: boolean;
  /** Pages of the committed free-list chain (freed by the next commit). */
  freeChain: BlockPointer[];
}

function pageContext(sb: Superblock, keys: WorkingKeys | null): PageContext {
  return { pageSize: sb.pageSize, checksumAlgorithm: sb.checksumAlgorithm, uuid: sb.uuid, metaKey: keys ? keys.meta : null };
}

function invariantUuid(createdMs: number): Uint8Array {
  const ms = new Uint8Array(8);
  writeU64LE(ms, 0, createdMs);
  return new Uint8Array(createHash('sha256').update('diskkit cartridge uuid').update(ms).digest().subarray(0, 16));
}

/** mkfs: a new image with an empty catalog at generation 1. */
export function createCartridgeFile(path: string, options: CreateOptions = {}): CartridgeFile {
  const pageSize = options.pageSize ?? 4096;
  const encrypted = options.passphrase !== undefined;
  const createdMs = options.invariantMs ?? Date.now();
  const uuid = options.invariantMs !== undefined && !encrypted ? invariantUuid(createdMs) : new Uint8Array(randomBytes(16));
  const compression = options.compression ?? Compression.LZ4;
  const sbFields = {
    pageSize,
    incompatFeatures: (encrypted ? IncompatFeature.ENCRYPTED : 0) | (options.packedFiles === false ? 0 : IncompatFeature.PACKED_FILES),
    roCompatFeatures: 0,
    compatFeatures: 0,
    checksumAlgorithm: options.checksumAlgorithm ?? ChecksumAlgorithm.CRC32,
    defaultCompression: compression,
    compressionLevel: compression === Compression.ZSTD ? (options.compressionLevel ?? 3) : 0,
    cipher: encrypted ? Cipher.AES_256_GCM : Cipher.NONE,
    uuid,
    createdMs,
  };
  const superPage = encodeSuperblock(sbFields);
  const superblock = decodeSuperblock(superPage);
  let keys: WorkingKeys | null = null;
  let keyBlock: Uint8Array = new Uint8Array(KEY_BLOCK_SIZE);
  if (encrypted) ({ keys, keyBlock } = createMasterKey(options.passphrase!, uuid, options.scrypt));
  let fd: number;
  try {
    fd = openSync(path, 'w+');
  } catch (error) {
    throw fromSystemError(error, path, 'create image');
  }
  const ctx = pageContext(superblock, keys);
  const space = new FreeSpace({ pageCount: FIRST_DATA_PAGE, generation: 1 });
  const pager = new Pager({ fd, path, ctx, space, cacheEntries: options.cacheEntries });
  pager.writeRaw(0, superPage);
  // Slot 0 (page 1) holds generation 2 later; keep it zero (invalid) until then.
  pager.writeRaw(2, new Uint8Array(pageSize));
  pager.writeRaw(1, new Uint8Array(pageSize));
  const meta: MetaPage = { ...emptyMeta(1, FIRST_DATA_PAGE), commitMs: options.invariantMs ?? createdMs, keyBlock };
  pager.commit(meta);
  return { path, superblock, meta, pager, keys, writable: true, freeChain: [] };
}

/** Opens an image at its newest valid commit (§4 selection); reads three pages, plus the free list when writable. */
export function openCartridgeFile(path: string, options: OpenOptions = {}): CartridgeFile {
  let fd: number;
  const ownsFd = options.fd === undefined;
  try {
    fd = options.fd ?? openSync(path, options.writable ? 'r+' : 'r');
  } catch (error) {
    throw fromSystemError(error, path, 'open image');
  }
  try {
    const superblock = decodeSuperblock(readUpTo(fd, path, 0, 512));
    if (options.writable && superblock.readOnly) {
      const sealed = (superblock.roCompatFeatures & RoCompatFeature.SEALED) !== 0;
      throw new DiskkitError(ErrorCode.READ_ONLY, sealed ? 'image is sealed (read-only): it cannot be written' : 'image has features this diskkit can only read: it cannot be written', {
        context: { path, roCompatFeatures: superblock.roCompatFeatures, reason: sealed ? 'sealed' : 'ro-compat-features' },
        hint: sealed ? 'a sealed image is a signed release: change the image it was sealed from and seal again' : undefined,
      });
    }
    const pageSize = superblock.pageSize;
    const slot0 = readUpTo(fd, path, pageSize, pageSize);
    const slot1 = readUpTo(fd, path, 2 * pageSize, pageSize);
    const { chosen } = selectMetaPage(slot0, slot1, pageContext(superblock, null));
    let keys: WorkingKeys | null = null;
    if (superblock.cipher !== Cipher.NONE && options.keys !== undefined) {
      keys = options.keys;
    } else if (superblock.cipher !== Cipher.NONE) {
      if (options.passphrase === undefined) {
        throw new DiskkitError(ErrorCode.BAD_PASSPHRASE, 'image is encrypted and no passphrase was given', { context: { path, reason: 'passphrase-needed' }, hint: 'set DISKKIT_PASSPHRASE, use --key-file FILE, or run on a terminal to be asked' });
      }
      keys = unlockMasterKey(chosen.keyBlock, options.passphrase, superblock.uuid);
    }
    const space = new FreeSpace({ pageCount: chosen.pageCount, generation: chosen.generation + 1 });
    const pager = new Pager({ fd, path, ctx: pageContext(superblock, keys), space, cacheEntries: options.cacheEntries, ownsFd });
    if (pager.filePages() < chosen.pageCount) {
      throw new DiskkitError(ErrorCode.TRUNCATED, `image is truncated: ${pager.filePages()} pages, the commit needs ${chosen.pageCount}`, { context: { path, page: pager.filePages() } });
    }
    let freeChain: BlockPointer[] = [];
    if (options.writable && !options.skipFreeList) {
      const list = readFreeList(pager, chosen.freeListHead, chosen.pageCount);
      freeChain = list.chain;
      space.replaceRecords(list.records);
    }
    return { path, superblock, meta: chosen, pager, keys, writable: options.writable ?? false, freeChain };
  } catch (error) {
    if (ownsFd) closeSync(fd);
    throw error;
  }
}

/** Up to `length` bytes at `position`; shorter at the end of the file (callers report what is missing). */
function readUpTo(fd: number, path: string, position: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  try {
    return buf.subarray(0, preadUpTo(fd, buf, 0, length, position));
  } catch (error) {
    throw fromSystemError(error, path, 'read image');
  }
}

export interface CommitChanges {
  catalogRoot?: BlockPointer;
  snapshotRoot?: BlockPointer;
  nextInodeId?: number;
  fileCount?: number;
  commitMs?: number;
  keyBlock?: Uint8Array;
}

/**
 * Commits the running transaction: writes the free list, then the meta page (§4 order,
 * through Pager.commit). Tree roots must already be flushed. Space at the end of the file
 * that the commit gave back is truncated once the meta page is durable.
 */
export function commitCartridgeFile(file: CartridgeFile, changes: CommitChanges): MetaPage {
  if (!file.writable) throw new DiskkitError(ErrorCode.UNSUPPORTED, 'image was opened read-only', { context: { path: file.path } });
  const { head, chain } = writeFreeList(file.pager, file.freeChain);
  const meta: MetaPage = {
    ...file.meta,
    generation: file.pager.generation,
    pageCount: file.pager.space.pageCount,
    catalogRoot: changes.catalogRoot ?? file.meta.catalogRoot,
    snapshotRoot: changes.snapshotRoot ?? file.meta.snapshotRoot,
    nextInodeId: changes.nextInodeId ?? file.meta.nextInodeId,
    fileCount: changes.fileCount ?? file.meta.fileCount,
    commitMs: changes.commitMs ?? Date.now(),
    keyBlock: changes.keyBlock ?? file.meta.keyBlock,
    freeListHead: head,
  };
  file.pager.commit(meta);
  file.meta = meta;
  file.freeChain = chain;
  if (file.pager.filePages() > meta.pageCount) {
    try {
      ftruncateSync(file.pager.fd, meta.pageCount * file.superblock.pageSize);
    } catch (error) {
      throw fromSystemError(error, file.path, 'truncate image');
    }
  }
  return meta;
}

/**
 * Closes the image. Nothing is committed (close never writes), but a writer's pages past
 * the committed page count belong to no commit (a copy that failed, a bulk import that
 * ran out of space): the file is cut back to the commit, so a failed write does not keep
 * the space it took. A crash leaves such a tail; the next commit cuts it.
 */
export function closeCartridgeFile(file: CartridgeFile): void {
  try {
    // A sealed image keeps its SEAL page past pageCount (§12); it is never opened writable, and never cut.
    const sealed = (file.superblock.roCompatFeatures & RoCompatFeature.SEALED) !== 0;
    if (file.writable && !sealed && fstatSync(file.pager.fd).size > file.meta.pageCount * file.superblock.pageSize) {
      ftruncateSync(file.pager.fd, file.meta.pageCount * file.superblock.pageSize);
    }
  } catch {
    // Left as a crash would leave it: the next commit cuts the tail.
  } finally {
    file.pager.close();
  }
}

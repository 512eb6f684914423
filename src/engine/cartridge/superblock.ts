/**
 * The superblock, page 0 (docs/cartridge-format.md §3): magic, version, features and the
 * choices made at mkfs. Checked by SHA-256 whatever the image's checksum algorithm, since
 * it is the structure that names that algorithm.
 */
import { sha256 } from '../sha256.js';
import { defineStruct } from '../struct.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { type ChecksumAlgorithmId, sameChecksum, validateChecksumAlgorithm } from './checksum.js';

import { CARTRIDGE_MAGIC, hasCartridgeMagic } from './magic.js';
export { CARTRIDGE_MAGIC, hasCartridgeMagic } from './magic.js';
export const FORMAT_VERSION_MAJOR = 1;
export const FORMAT_VERSION_MINOR = 1;
export const MIN_PAGE_SIZE = 4096;
export const MAX_PAGE_SIZE = 65536;
const SUPER_CHECKSUM_OFFSET = 480;
export const SUPERBLOCK_SIZE = 512;

/** PACKED_FILES (1.1): packs and data modes 2 and 4 (§7.5); set by every 1.1 mkfs. */
export const IncompatFeature = { ENCRYPTED: 1, PACKED_FILES: 2 } as const;
export const RoCompatFeature = { SEALED: 1 } as const;
const KNOWN_INCOMPAT = IncompatFeature.ENCRYPTED | IncompatFeature.PACKED_FILES;
const KNOWN_RO_COMPAT = RoCompatFeature.SEALED;

export const Compression = { NONE: 0, LZ4: 1, ZSTD: 2 } as const;
export type CompressionId = (typeof Compression)[keyof typeof Compression];
export const Cipher = { NONE: 0, AES_256_GCM: 1 } as const;
export type CipherId = (typeof Cipher)[keyof typeof Cipher];

export const SuperblockStruct = defineStruct('Superblock', SUPERBLOCK_SIZE, {
  magic: { offset: 0, type: { bytes: 8 } },
  versionMajor: { offset: 8, type: 'u16' },
  versionMinor: { offset: 10, type: 'u16' },
  pageSize: { offset: 12, type: 'u32' },
  incompatFeatures: { offset: 16, type: 'u32' },
  roCompatFeatures: { offset: 20, type: 'u32' },
  compatFeatures: { offset: 24, type: 'u32' },
  checksumAlgorithm: { offset: 28, type: 'u8' },
  defaultCompression: { offset: 29, type: 'u8' },
  compressionLevel: { offset: 30, type: 'u8' },
  cipher: { offset: 31, type: 'u8' },
  uuid: { offset: 32, type: { bytes: 16 } },
  createdMs: { offset: 48, type: 'u64' },
  superChecksum: { offset: SUPER_CHECKSUM_OFFSET, type: { bytes: 32 } },
});

export interface Superblock {
  versionMajor: number;
  versionMinor: number;
  pageSize: number;
  incompatFeatures: number;
  roCompatFeatures: number;
  compatFeatures: number;
  checksumAlgorithm: ChecksumAlgorithmId;
  defaultCompression: CompressionId;
  compressionLevel: number;
  cipher: CipherId;
  uuid: Uint8Array;
  createdMs: number;
  /** Set when roCompat has bits this reader does not know, or the image is sealed. */
  readOnly: boolean;
}

/** SHA-256 of the fields before the checksum (engine/sha256.ts: node:crypto is not loaded for it). */
function superChecksum(page: Uint8Array): Uint8Array {
  return sha256(page.subarray(0, SUPER_CHECKSUM_OFFSET));
}

export function isValidPageSize(pageSize: number): boolean {
  return Number.isInteger(pageSize) && pageSize >= MIN_PAGE_SIZE && pageSize <= MAX_PAGE_SIZE && (pageSize & (pageSize - 1)) === 0;
}

/** Encodes the superblock as a whole page of `pageSize` bytes. */
export function encodeSuperblock(sb: Omit<Superblock, 'readOnly' | 'versionMajor' | 'versionMinor'>): Uint8Array {
  if (!isValidPageSize(sb.pageSize)) throw new Error(`invalid page size ${sb.pageSize}`);
  const page = new Uint8Array(sb.pageSize);
  SuperblockStruct.encode(
    {
      magic: CARTRIDGE_MAGIC,
      versionMajor: FORMAT_VERSION_MAJOR,
      versionMinor: FORMAT_VERSION_MINOR,
      pageSize: sb.pageSize,
      incompatFeatures: sb.incompatFeatures,
      roCompatFeatures: sb.roCompatFeatures,
      compatFeatures: sb.compatFeatures,
      checksumAlgorithm: sb.checksumAlgorithm,
      defaultCompression: sb.defaultCompression,
      compressionLevel: sb.compressionLevel,
      cipher: sb.cipher,
      uuid: sb.uuid,
      createdMs: sb.createdMs,
    },
    page,
  );
  page.set(superChecksum(page), SUPER_CHECKSUM_OFFSET);
  return page;
}

function bad(message: string, context: Record<string, unknown>): DiskkitError {
  return new DiskkitError(ErrorCode.CORRUPT, `superblock: ${message}`, { context: { page: 0, ...context } });
}

/**
 * The checksummed bytes of the last superblock that verified. Opening an image decodes its
 * superblock twice (the volume, then the store, each from its own read), and the JS SHA-256
 * of a cold process costs more than the rest of the decode: identical bytes are not hashed
 * again.
 */
let lastVerified: Uint8Array | null = null;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Decodes and validates the superblock from the first ≥ 512 bytes of the image. */
export function decodeSuperblock(head: Uint8Array): Superblock {
  if (!hasCartridgeMagic(head)) throw new DiskkitError(ErrorCode.UNKNOWN_FORMAT, 'not a Cartridge image (magic missing)', { context: { page: 0 } });
  if (head.length < SUPERBLOCK_SIZE) throw new DiskkitError(ErrorCode.TRUNCATED, 'image ends inside the superblock', { context: { length: head.length } });
  // The checksum before any field: a damaged 64-bit field must read as corruption, not as a limit.
  const checked = head.subarray(0, SUPER_CHECKSUM_OFFSET + 32);
  if (lastVerified === null || !sameBytes(lastVerified, checked)) {
    if (!sameChecksum(superChecksum(head), head.subarray(SUPER_CHECKSUM_OFFSET, SUPER_CHECKSUM_OFFSET + 32))) throw bad('checksum mismatch', { kind: 'checksum' });
    lastVerified = checked.slice();
  }
  const raw = SuperblockStruct.decode(head);
  if (raw.versionMajor !== FORMAT_VERSION_MAJOR) {
    throw new DiskkitError(ErrorCode.UNSUPPORTED, `Cartridge format version ${raw.versionMajor}.${raw.versionMinor} is not supported (this diskkit reads 1.x)`, {
      context: { versionMajor: raw.versionMajor },
    });
  }
  if (!isValidPageSize(raw.pageSize)) throw bad(`invalid page size ${raw.pageSize}`, { field: 'pageSize', value: raw.pageSize });
  if ((raw.incompatFeatures & ~KNOWN_INCOMPAT) !== 0) {
    throw new DiskkitError(ErrorCode.UNSUPPORTED, `image needs features this diskkit does not know (incompat 0x${raw.incompatFeatures.toString(16)})`, {
      context: { incompatFeatures: raw.incompatFeatures },
    });
  }
  const checksumAlgorithm = validateChecksumAlgorithm(raw.checksumAlgorithm);
  if (raw.defaultCompression > Compression.ZSTD) throw bad(`unknown compression ${raw.defaultCompression}`, { field: 'defaultCompression' });
  if (raw.cipher > Cipher.AES_256_GCM) throw bad(`unknown cipher ${raw.cipher}`, { field: 'cipher' });
  const encrypted = (raw.incompatFeatures & IncompatFeature.ENCRYPTED) !== 0;
  if (encrypted !== (raw.cipher !== Cipher.NONE)) throw bad('cipher and ENCRYPTED feature disagree', { field: 'cipher' });
  return {
    versionMajor: raw.versionMajor,
    versionMinor: raw.versionMinor,
    pageSize: raw.pageSize,
    incompatFeatures: raw.incompatFeatures,
    roCompatFeatures: raw.roCompatFeatures,
    compatFeatures: raw.compatFeatures,
    checksumAlgorithm,
    defaultCompression: raw.defaultCompression as CompressionId,
    compressionLevel: raw.compressionLevel,
    cipher: raw.cipher as CipherId,
    uuid: raw.uuid,
    createdMs: raw.createdMs,
    readOnly: raw.roCompatFeatures !== 0,
  };
}

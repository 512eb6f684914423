/**
 * Checksums of pages and extents (docs/cartridge-format.md §2): a fixed 32-byte field
 * holding CRC-32 (u32 LE, 28 zero bytes) or SHA-256, chosen at mkfs.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32 as smallCrc32 } from '../crc32.js';
import { DiskkitError, ErrorCode } from '../errors.js';

/**
 * CRC-32 of large inputs (extents) through @node-rs/crc32 (PCLMULQDQ/SIMD): about 0.085
 * CPU s per GiB here against 0.2 for zlib's, which was a fifth of a 1 GiB copy out.
 * Loaded once ZLIB_LARGE_BYTES of inputs of NATIVE_CRC_MIN_BYTES or more have gone
 * through zlib's: its loader costs 8-12 ms of CPU, which the faster CRC pays back only
 * after about 90 MB (a cp -r of 10,000 small files checks 30 MB of packs, and loaded it
 * on the first pack). zlib's throughout when it is missing (an optional dependency).
 * Both compute the same CRC-32 (IEEE, as the format says).
 */
const NATIVE_CRC_MIN_BYTES = 64 * 1024;
const ZLIB_LARGE_BYTES = 32 * 1024 * 1024;
let zlibLargeBytes = 0;
type Crc32 = (data: Uint8Array, value?: number) => number;
let nativeCrc32: Crc32 | null | undefined;

function largeCrc32(): Crc32 {
  if (nativeCrc32 === undefined) {
    try {
      nativeCrc32 = (createRequire(import.meta.url)('@node-rs/crc32') as { crc32: Crc32 }).crc32;
    } catch {
      nativeCrc32 = null;
    }
  }
  return nativeCrc32 ?? zlibCrc32;
}

/** Which CRC-32 large inputs go through: 'simd' (@node-rs/crc32) or 'zlib'. */
export function largeCrc32Backend(): 'simd' | 'zlib' {
  return largeCrc32() === zlibCrc32 ? 'zlib' : 'simd';
}

/** Inputs under NATIVE_CRC_MIN_BYTES: the table while the process is young (../crc32.ts says why), then zlib's. */
function crc32(data: Uint8Array, value: number): number {
  if (data.length < NATIVE_CRC_MIN_BYTES) return smallCrc32(data, value);
  if (nativeCrc32 === undefined && zlibLargeBytes < ZLIB_LARGE_BYTES) {
    zlibLargeBytes += data.length;
    return zlibCrc32(data, value);
  }
  return largeCrc32()(data, value) >>> 0;
}

export const ChecksumAlgorithm = { CRC32: 1, SHA256: 2 } as const;
export type ChecksumAlgorithmId = (typeof ChecksumAlgorithm)[keyof typeof ChecksumAlgorithm];

export const CHECKSUM_FIELD_SIZE = 32;

export function checksumAlgorithmName(id: ChecksumAlgorithmId): 'crc32' | 'sha256' {
  return id === ChecksumAlgorithm.CRC32 ? 'crc32' : 'sha256';
}

export function validateChecksumAlgorithm(value: number): ChecksumAlgorithmId {
  if (value === ChecksumAlgorithm.CRC32 || value === ChecksumAlgorithm.SHA256) return value;
  throw new DiskkitError(ErrorCode.UNSUPPORTED, `unknown checksum algorithm ${value}`, { context: { field: 'checksumAlgorithm', value } });
}

/** The 32-byte checksum field of the concatenation of `parts`. */
export function computeChecksum(algorithm: ChecksumAlgorithmId, ...parts: Uint8Array[]): Uint8Array {
  const field = new Uint8Array(CHECKSUM_FIELD_SIZE);
  if (algorithm === ChecksumAlgorithm.CRC32) {
    let crc = 0;
    for (const part of parts) crc = crc32(part, crc);
    field[0] = crc & 0xff;
    field[1] = (crc >>> 8) & 0xff;
    field[2] = (crc >>> 16) & 0xff;
    field[3] = (crc >>> 24) & 0xff;
  } else {
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part);
    field.set(hash.digest());
  }
  return field;
}

/** Constant-length comparison of two 32-byte fields (not secret: no timing concern). */
export function sameChecksum(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

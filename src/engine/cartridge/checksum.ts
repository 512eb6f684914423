/**
 * Checksums of pages and extents (docs/cartridge-format.md §2): a fixed 32-byte field
 * holding CRC-32 (u32 LE, 28 zero bytes) or SHA-256, chosen at mkfs.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { DiskkitError, ErrorCode } from '../errors.js';

/**
 * CRC-32 of large inputs (extents) through @node-rs/crc32 (PCLMULQDQ/SIMD): about 0.085
 * CPU s per GiB here against 0.2 for zlib's, which was a fifth of a 1 GiB copy out.
 * Loaded on the first input of NATIVE_CRC_MIN_BYTES (its loader costs 5-8 ms of CPU,
 * more than a command that checks only pages would save); zlib's when it is missing
 * (an optional dependency). Both compute the same CRC-32 (IEEE, as the format says).
 */
const NATIVE_CRC_MIN_BYTES = 64 * 1024;
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

/**
 * The first TABLE_CRC_BUDGET bytes of small inputs a process checksums go through
 * tableCrc32 instead of zlib's: the first call of zlib.crc32 loads node:zlib and with
 * it Node's whole stream stack (about twenty modules, several ms of start-up), while
 * opening a cartridge and listing a directory checks a handful of 4 KiB pages (tens of
 * µs here). A command that checks more pages than that moves on to zlib's.
 */
const TABLE_CRC_BUDGET = 256 * 1024;
let tableCrcBytesLeft = TABLE_CRC_BUDGET;

function crc32(data: Uint8Array, value: number): number {
  if (data.length >= NATIVE_CRC_MIN_BYTES) return largeCrc32()(data, value) >>> 0;
  if (data.length <= tableCrcBytesLeft) {
    tableCrcBytesLeft -= data.length;
    return tableCrc32(data, value);
  }
  return zlibCrc32(data, value);
}

/** CRC-32 tables for slicing by 8 (table k: the CRC of a byte followed by k zero bytes), built on first use. */
let crcTables: Int32Array | undefined;

function crcTablesOnce(): Int32Array {
  if (crcTables !== undefined) return crcTables;
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1, c = t[n]!; k < 8; k++) t[k * 256 + n] = c = t[c & 0xff]! ^ (c >>> 8);
  return (crcTables = t);
}

/** CRC-32 (IEEE, reflected, as zlib.crc32: `value` continues an earlier CRC), eight bytes a step. */
export function tableCrc32(data: Uint8Array, value = 0): number {
  const t = crcTablesOnce();
  const n = data.length;
  let crc = ~value;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    crc = t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]! ^ t[768 + data[i + 4]!]! ^ t[512 + data[i + 5]!]! ^ t[256 + data[i + 6]!]! ^ t[data[i + 7]!]!;
  }
  for (; i < n; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
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

/**
 * Checksums of pages and extents (docs/cartridge-format.md §2): a fixed 32-byte field
 * holding CRC-32 (u32 LE, 28 zero bytes) or SHA-256, chosen at mkfs.
 */
import { createHash } from 'node:crypto';
import { crc32 } from '../crc32.js';
import { DiskkitError, ErrorCode } from '../errors.js';

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

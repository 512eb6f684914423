/**
 * Catalog keys (docs/cartridge-format.md §7.2): parent id as u64 big-endian, then the
 * name in UTF-8, so byte order is (parent, name) order and a directory's children are
 * one contiguous range of the B+tree.
 */
import { DiskkitError, ErrorCode } from '../errors.js';

export const ROOT_DIRECTORY_ID = 1;
export const MAX_NAME_BYTES = 255;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function writeU64BE(buf: Uint8Array, offset: number, value: number): void {
  const high = Math.floor(value / 0x100000000);
  const low = value >>> 0;
  buf[offset] = high >>> 24;
  buf[offset + 1] = (high >>> 16) & 0xff;
  buf[offset + 2] = (high >>> 8) & 0xff;
  buf[offset + 3] = high & 0xff;
  buf[offset + 4] = low >>> 24;
  buf[offset + 5] = (low >>> 16) & 0xff;
  buf[offset + 6] = (low >>> 8) & 0xff;
  buf[offset + 7] = low & 0xff;
}

function readU64BE(buf: Uint8Array, offset: number): number {
  const high = ((buf[offset]! << 24) >>> 0) + (buf[offset + 1]! << 16) + (buf[offset + 2]! << 8) + buf[offset + 3]!;
  const low = ((buf[offset + 4]! << 24) >>> 0) + (buf[offset + 5]! << 16) + (buf[offset + 6]! << 8) + buf[offset + 7]!;
  return high * 0x100000000 + low;
}

/** Checks a name a user gives or an image holds: 1–255 UTF-8 bytes, no '/', no NUL, not '.' or '..'. */
export function validateName(name: string): Uint8Array {
  const bytes = encoder.encode(name);
  if (bytes.length < 1 || bytes.length > MAX_NAME_BYTES || name.includes('/') || name.includes('\0') || name === '.' || name === '..') {
    throw new DiskkitError(ErrorCode.BAD_NAME, `invalid name ${JSON.stringify(name)}`, { context: { name } });
  }
  return bytes;
}

export function encodeCatalogKey(parentId: number, name: string): Uint8Array {
  const nameBytes = validateName(name);
  const key = new Uint8Array(8 + nameBytes.length);
  writeU64BE(key, 0, parentId);
  key.set(nameBytes, 8);
  return key;
}

/**
 * The key of `nameBytes` (UTF-8, checked by the caller) in `parentId`, or null when the
 * name is one validateName refuses: for a bulk import, which has the bytes already and
 * would otherwise decode and re-encode every name.
 */
export function catalogKeyOfBytes(parentId: number, nameBytes: Uint8Array): Uint8Array | null {
  const n = nameBytes.length;
  if (n < 1 || n > MAX_NAME_BYTES || nameBytes.includes(0x2f) || nameBytes.includes(0)) return null;
  if (nameBytes[0] === 0x2e && (n === 1 || (n === 2 && nameBytes[1] === 0x2e))) return null;
  const key = new Uint8Array(8 + n);
  writeU64BE(key, 0, parentId);
  key.set(nameBytes, 8);
  return key;
}

/** The key range [from, to) holding every child of `parentId`. */
export function childrenRange(parentId: number): { from: Uint8Array; to: Uint8Array } {
  const from = new Uint8Array(8);
  writeU64BE(from, 0, parentId);
  const to = new Uint8Array(8);
  writeU64BE(to, 0, parentId + 1);
  return { from, to };
}

/** The root directory's own entry: parent 0, empty name (§7.2). */
export const ROOT_ENTRY_KEY = new Uint8Array(8);

/**
 * A name's UTF-8 bytes as a string. Nearly every name is ASCII, which is its own UTF-8:
 * one code unit per byte is several times cheaper than TextDecoder (whose decode cost
 * a listing of 10,000 entries more than the rest of a key's decoding).
 */
function decodeName(bytes: Uint8Array): string {
  let any = 0;
  for (let i = 0; i < bytes.length; i++) any |= bytes[i]!;
  return any < 0x80 ? String.fromCharCode.apply(null, bytes as unknown as number[]) : decoder.decode(bytes);
}

export function decodeCatalogKey(key: Uint8Array): { parentId: number; name: string } {
  if (key.length === 8 && readU64BE(key, 0) === 0) return { parentId: 0, name: '' };
  if (key.length < 9 || key.length > 8 + MAX_NAME_BYTES) {
    throw new DiskkitError(ErrorCode.CORRUPT, `catalog key of ${key.length} bytes`, { context: { length: key.length } });
  }
  let name: string;
  try {
    name = decodeName(key.subarray(8));
  } catch {
    throw new DiskkitError(ErrorCode.CORRUPT, 'catalog name is not UTF-8', { context: { parentId: readU64BE(key, 0) } });
  }
  return { parentId: readU64BE(key, 0), name };
}

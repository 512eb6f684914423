/**
 * The extent record (docs/cartridge-format.md §9.1): where a run of file data is stored,
 * how (compression), how long before and after, and its checksum or GCM tag ‖ nonce.
 */
import { defineStruct } from '../struct.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { SEAL_SIZE } from './block-pointer.js';
import { Compression, type CompressionId } from './superblock.js';

export const EXTENT_RECORD_SIZE = 64;
/** Format limit on an extent's logical length, so a hostile record cannot make a reader allocate more. */
export const MAX_EXTENT_LOGICAL = 1024 * 1024;

export const ExtentRecordStruct = defineStruct('ExtentRecord', EXTENT_RECORD_SIZE, {
  address: { offset: 0, type: 'u64' },
  generation: { offset: 8, type: 'u64' },
  pageCount: { offset: 16, type: 'u32' },
  storedLength: { offset: 20, type: 'u32' },
  logicalLength: { offset: 24, type: 'u32' },
  compression: { offset: 28, type: 'u8' },
  flags: { offset: 29, type: 'u8' },
  reserved30: { offset: 30, type: 'u16' },
  seal: { offset: 32, type: { bytes: SEAL_SIZE } },
});

export interface ExtentRecord {
  address: number;
  generation: number;
  pageCount: number;
  storedLength: number;
  logicalLength: number;
  compression: CompressionId;
  seal: Uint8Array;
}

export function encodeExtentRecord(record: ExtentRecord, buf: Uint8Array = new Uint8Array(EXTENT_RECORD_SIZE), offset = 0): Uint8Array {
  ExtentRecordStruct.encode({ ...record, flags: 0, reserved30: 0 }, buf, offset);
  return buf;
}

/** Decodes and bounds-checks a record against the image's page size and page count. */
export function decodeExtentRecord(buf: Uint8Array, offset: number, pageSize: number, pageCount: number): ExtentRecord {
  const raw = ExtentRecordStruct.decode(buf, offset);
  const bad = (what: string) => new DiskkitError(ErrorCode.CORRUPT, `extent at page ${raw.address}: ${what}`, { context: { page: raw.address, ...raw, seal: undefined } });
  if (raw.compression > Compression.ZSTD) throw bad(`unknown compression ${raw.compression}`);
  if (raw.logicalLength < 1 || raw.logicalLength > MAX_EXTENT_LOGICAL) throw bad(`logical length ${raw.logicalLength} outside 1..${MAX_EXTENT_LOGICAL}`);
  if (raw.storedLength < 1 || raw.pageCount !== Math.ceil(raw.storedLength / pageSize)) throw bad(`stored length ${raw.storedLength} does not fill ${raw.pageCount} pages`);
  if (raw.compression === Compression.NONE && raw.storedLength !== raw.logicalLength) throw bad('uncompressed extent whose stored and logical lengths differ');
  if (raw.address < 3 || raw.address + raw.pageCount > pageCount) throw bad(`pages ${raw.address}..${raw.address + raw.pageCount - 1} outside the image (${pageCount} pages)`);
  return {
    address: raw.address,
    generation: raw.generation,
    pageCount: raw.pageCount,
    storedLength: raw.storedLength,
    logicalLength: raw.logicalLength,
    compression: raw.compression as CompressionId,
    seal: raw.seal,
  };
}

/**
 * The extent map's B+tree key (§9): the extent's file offset as a u64, big-endian so
 * that keys sort in file order.
 */
export const EXTENT_MAP_KEY_SIZE = 8;

export function encodeExtentMapKey(offset: number): Uint8Array {
  const key = new Uint8Array(EXTENT_MAP_KEY_SIZE);
  new DataView(key.buffer).setBigUint64(0, BigInt(offset));
  return key;
}

/** The file offset of an extent-map key; -1 for a key of the wrong size (a damaged map). */
export function decodeExtentMapKey(key: Uint8Array): number {
  if (key.length !== EXTENT_MAP_KEY_SIZE) return -1;
  return Number(new DataView(key.buffer, key.byteOffset, EXTENT_MAP_KEY_SIZE).getBigUint64(0));
}

/**
 * The MFT record ("FILE record") header (Linux-NTFS documentation, "MFT record
 * header"; Microsoft FILE_RECORD_SEGMENT_HEADER). Every file has a base record and
 * possibly extension records that point back to it through `baseRecord`.
 */
import { defineStruct } from '../struct.js';

export const MftRecordHeader = defineStruct('MftRecordHeader', 0x30, {
  signature: { offset: 0x00, type: 'u32' },
  usaOffset: { offset: 0x04, type: 'u16' },
  usaCount: { offset: 0x06, type: 'u16' },
  logSequenceNumber: { offset: 0x08, type: 'u64' },
  sequence: { offset: 0x10, type: 'u16' },
  linkCount: { offset: 0x12, type: 'u16' },
  firstAttributeOffset: { offset: 0x14, type: 'u16' },
  flags: { offset: 0x16, type: 'u16' },
  bytesInUse: { offset: 0x18, type: 'u32' },
  bytesAllocated: { offset: 0x1c, type: 'u32' },
  /** File reference of the base record: 48-bit record number, 16-bit sequence. 0 for a base record. */
  baseRecord: { offset: 0x20, type: 'u64' },
  nextAttributeId: { offset: 0x28, type: 'u16' },
  /** Windows XP and later store the record's own number here. */
  recordNumber: { offset: 0x2c, type: 'u32' },
});

/** "FILE" and "BAAD" as little-endian u32 (edge case 2). */
export const SIGNATURE_FILE = 0x454c4946;
export const SIGNATURE_BAAD = 0x44414142;

export const RecordFlag = {
  IN_USE: 0x0001,
  DIRECTORY: 0x0002,
  /** Record is in $Extend (e.g. $Quota, $ObjId). */
  IN_EXTEND: 0x0004,
  /** Has an index other than $I30 (a view index). */
  VIEW_INDEX: 0x0008,
} as const;

/** What a record turned out to be after parsing, one byte per record in the table. */
export const RecordStatus = {
  /** Not read (skipped as free through $MFT's $BITMAP, or past the end of a truncated dump). */
  NOT_READ: 0,
  /** All zeros, or no signature at all: never used. */
  EMPTY: 1,
  /** A valid FILE record. */
  OK: 2,
  /** Signature "BAAD": chkdsk or the OS found it torn (edge case 2). */
  BAAD: 3,
  /** Fixup mismatch: part of the record is from another write (edge case 3). Parsed best-effort, flagged, never trusted. */
  TORN: 4,
  /** Header or attributes overflow the record, or the fixup array does not fit (edge case 4). */
  CORRUPT: 5,
  /** Something other than FILE/BAAD/zeros. */
  GARBAGE: 6,
} as const;
export type RecordStatusValue = (typeof RecordStatus)[keyof typeof RecordStatus];

export const RECORD_STATUS_NAMES = ['not-read', 'empty', 'ok', 'baad', 'torn', 'corrupt', 'garbage'] as const;

/** Record 5 is the root directory (edge case 11); 0..15 are reserved for metadata files. */
export const ROOT_RECORD = 5;
export const MFT_RECORD = 0;

/** Reads a 48-bit record number from a file reference at `offset` of `buf` (the top 16 bits are the sequence number). */
export function referenceRecord(buf: Uint8Array, offset: number): number {
  return (buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16)) + buf[offset + 3]! * 0x1000000 +
    (buf[offset + 4]! | (buf[offset + 5]! << 8)) * 0x100000000;
}

export function referenceSequence(buf: Uint8Array, offset: number): number {
  return buf[offset + 6]! | (buf[offset + 7]! << 8);
}

/**
 * The attribute record header every attribute in an MFT record starts with
 * (Linux-NTFS documentation, "Attribute header"; Microsoft ATTRIBUTE_RECORD_HEADER).
 * A resident attribute holds its value in the record; a non-resident one holds a
 * run list pointing at clusters. Every offset and length here is checked against
 * the record before use (edge case 4).
 */
import { defineStruct } from '../../struct.js';

export const AttributeType = {
  STANDARD_INFORMATION: 0x10,
  ATTRIBUTE_LIST: 0x20,
  FILE_NAME: 0x30,
  OBJECT_ID: 0x40,
  SECURITY_DESCRIPTOR: 0x50,
  VOLUME_NAME: 0x60,
  VOLUME_INFORMATION: 0x70,
  DATA: 0x80,
  INDEX_ROOT: 0x90,
  INDEX_ALLOCATION: 0xa0,
  BITMAP: 0xb0,
  REPARSE_POINT: 0xc0,
  /** Marks the end of the attribute list in a record. */
  END: 0xffffffff,
} as const;

export const AttributeFlag = {
  COMPRESSED: 0x0001,
  ENCRYPTED: 0x4000,
  SPARSE: 0x8000,
} as const;

export const AttributeHeader = defineStruct('AttributeHeader', 0x10, {
  type: { offset: 0x00, type: 'u32' },
  length: { offset: 0x04, type: 'u32' },
  nonResident: { offset: 0x08, type: 'u8' },
  nameLength: { offset: 0x09, type: 'u8' },
  nameOffset: { offset: 0x0a, type: 'u16' },
  flags: { offset: 0x0c, type: 'u16' },
  attributeId: { offset: 0x0e, type: 'u16' },
});

export const ResidentHeader = defineStruct('ResidentAttributeHeader', 0x18, {
  valueLength: { offset: 0x10, type: 'u32' },
  valueOffset: { offset: 0x14, type: 'u16' },
  indexedFlag: { offset: 0x16, type: 'u8' },
});

export const NonResidentHeader = defineStruct('NonResidentAttributeHeader', 0x48, {
  startVcn: { offset: 0x10, type: 'u64' },
  lastVcn: { offset: 0x18, type: 'u64' },
  runsOffset: { offset: 0x20, type: 'u16' },
  compressionUnit: { offset: 0x22, type: 'u16' },
  allocatedSize: { offset: 0x28, type: 'u64' },
  dataSize: { offset: 0x30, type: 'u64' },
  initializedSize: { offset: 0x38, type: 'u64' },
  /** Present only when the attribute is compressed or sparse. */
  compressedSize: { offset: 0x40, type: 'u64' },
});

/** Minimum header lengths: resident header, and non-resident header without the compressed-size field. */
export const MIN_RESIDENT_LENGTH = 0x18;
export const MIN_NON_RESIDENT_LENGTH = 0x40;
/** Where the hot parser reads `AttributeHeader.attributeId` (the instance id TSK's INODE-TYPE-ID names). */
export const ATTRIBUTE_ID_OFFSET = 0x0e;

/** Decodes an attribute name (UTF-16LE) at `at` of `buf`. */
export function decodeUtf16Name(buf: Uint8Array, at: number, units: number): string {
  let s = '';
  for (let i = 0; i < units; i++) s += String.fromCharCode(buf[at + 2 * i]! | (buf[at + 2 * i + 1]! << 8));
  return s;
}

/** Encodes a UTF-16LE name into bytes (for builders). */
export function encodeUtf16Name(name: string): Uint8Array {
  const out = new Uint8Array(name.length * 2);
  for (let i = 0; i < name.length; i++) {
    out[2 * i] = name.charCodeAt(i) & 0xff;
    out[2 * i + 1] = name.charCodeAt(i) >>> 8;
  }
  return out;
}

/** Builds a resident attribute record (for builders and the synthetic generator). */
export function encodeResidentAttribute(type: number, value: Uint8Array, options: { name?: string; flags?: number; id?: number; indexed?: boolean } = {}): Uint8Array {
  const name = encodeUtf16Name(options.name ?? '');
  const nameOffset = MIN_RESIDENT_LENGTH;
  const valueOffset = (nameOffset + name.length + 7) & ~7;
  const length = (valueOffset + value.length + 7) & ~7;
  const out = new Uint8Array(length);
  AttributeHeader.encode({ type, length, nonResident: 0, nameLength: name.length / 2, nameOffset, flags: options.flags ?? 0, attributeId: options.id ?? 0 }, out);
  ResidentHeader.encode({ valueLength: value.length, valueOffset, indexedFlag: options.indexed ? 1 : 0 }, out);
  out.set(name, nameOffset);
  out.set(value, valueOffset);
  return out;
}

/** Builds a non-resident attribute record around an encoded run list (for builders). */
export function encodeNonResidentAttribute(
  type: number,
  runs: Uint8Array,
  sizes: { startVcn?: number; lastVcn: number; allocatedSize: number; dataSize: number; initializedSize?: number; compressionUnit?: number },
  options: { name?: string; flags?: number; id?: number } = {},
): Uint8Array {
  const name = encodeUtf16Name(options.name ?? '');
  const nameOffset = 0x40;
  const runsOffset = (nameOffset + name.length + 7) & ~7;
  const length = (runsOffset + runs.length + 7) & ~7;
  const out = new Uint8Array(length);
  AttributeHeader.encode({ type, length, nonResident: 1, nameLength: name.length / 2, nameOffset, flags: options.flags ?? 0, attributeId: options.id ?? 0 }, out);
  out.set(name, nameOffset);
  out.set(runs, runsOffset);
  const nr = new Uint8Array(0x48);
  NonResidentHeader.encode({
    startVcn: sizes.startVcn ?? 0,
    lastVcn: sizes.lastVcn,
    runsOffset,
    compressionUnit: sizes.compressionUnit ?? 0,
    allocatedSize: sizes.allocatedSize,
    dataSize: sizes.dataSize,
    initializedSize: sizes.initializedSize ?? sizes.dataSize,
  }, nr);
  out.set(nr.subarray(0x10, 0x40), 0x10);
  return out;
}

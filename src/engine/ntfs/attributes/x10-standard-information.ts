/**
 * $STANDARD_INFORMATION (type 0x10): the four timestamps Windows shows and the DOS
 * file attributes (Linux-NTFS documentation, "$STANDARD_INFORMATION"). NTFS 1.2
 * values are 0x30 bytes; NTFS 3.x adds owner/security/quota fields (0x48 bytes).
 */
import { defineStruct } from '../../struct.js';

export const STANDARD_INFORMATION_TYPE = 0x10;

export const StandardInformation = defineStruct('StandardInformation', 0x30, {
  created: { offset: 0x00, type: { bytes: 8 } },
  modified: { offset: 0x08, type: { bytes: 8 } },
  mftModified: { offset: 0x10, type: { bytes: 8 } },
  accessed: { offset: 0x18, type: { bytes: 8 } },
  fileAttributes: { offset: 0x20, type: 'u32' },
  maxVersions: { offset: 0x24, type: 'u32' },
  version: { offset: 0x28, type: 'u32' },
  classId: { offset: 0x2c, type: 'u32' },
});

/** The value must hold at least the times and the attributes. */
export const MIN_STANDARD_INFORMATION_LENGTH = 0x24;

/** DOS/Windows file attribute bits (FILE_ATTRIBUTE_*), as stored in $STANDARD_INFORMATION and $FILE_NAME. */
export const FileAttribute = {
  READONLY: 0x0001,
  HIDDEN: 0x0002,
  SYSTEM: 0x0004,
  ARCHIVE: 0x0020,
  SPARSE: 0x0200,
  REPARSE: 0x0400,
  COMPRESSED: 0x0800,
  OFFLINE: 0x1000,
  NOT_INDEXED: 0x2000,
  ENCRYPTED: 0x4000,
} as const;

/**
 * Copies the four FILETIMEs (as lo/hi u32 pairs) into `times[slot..slot+8)` and
 * returns the file attributes. The caller has checked `length >= MIN_STANDARD_INFORMATION_LENGTH`.
 */
export function readStandardInformation(dv: DataView, at: number, times: Uint32Array, slot: number): number {
  for (let i = 0; i < 8; i++) times[slot + i] = dv.getUint32(at + 4 * i, true);
  return dv.getUint32(at + 0x20, true);
}

/** Builds a $STANDARD_INFORMATION value (for builders). Times are FILETIME bigints. */
export function encodeStandardInformation(times: { created: bigint; modified: bigint; mftModified: bigint; accessed: bigint }, fileAttributes: number): Uint8Array {
  const out = new Uint8Array(0x48);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0x00, times.created, true);
  dv.setBigUint64(0x08, times.modified, true);
  dv.setBigUint64(0x10, times.mftModified, true);
  dv.setBigUint64(0x18, times.accessed, true);
  dv.setUint32(0x20, fileAttributes, true);
  return out;
}

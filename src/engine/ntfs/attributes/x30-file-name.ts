/**
 * $FILE_NAME (type 0x30): a name of the file in its parent directory, with the
 * parent's file reference and a second set of four timestamps (Linux-NTFS
 * documentation, "$FILE_NAME"). A record holds one per name per namespace: POSIX,
 * Win32, DOS, or one Win32+DOS name when the long name is already 8.3 (edge case 8).
 * Hard links are further $FILE_NAME attributes, possibly with other parents.
 */
import { defineStruct } from '../../struct.js';
import { encodeUtf16Name } from './attribute-header.js';

export const FILE_NAME_TYPE = 0x30;

export const FileName = defineStruct('FileName', 0x42, {
  parent: { offset: 0x00, type: 'u64' },
  created: { offset: 0x08, type: { bytes: 8 } },
  modified: { offset: 0x10, type: { bytes: 8 } },
  mftModified: { offset: 0x18, type: { bytes: 8 } },
  accessed: { offset: 0x20, type: { bytes: 8 } },
  allocatedSize: { offset: 0x28, type: 'u64' },
  dataSize: { offset: 0x30, type: 'u64' },
  fileAttributes: { offset: 0x38, type: 'u32' },
  reparseTag: { offset: 0x3c, type: 'u32' },
  nameLength: { offset: 0x40, type: 'u8' },
  namespace: { offset: 0x41, type: 'u8' },
});

export const FILE_NAME_FIXED_LENGTH = 0x42;
export const FILE_NAME_TIMES_OFFSET = 0x08;
export const FILE_NAME_LENGTH_OFFSET = 0x40;
export const FILE_NAME_NAMESPACE_OFFSET = 0x41;

export const FileNamespace = {
  POSIX: 0,
  WIN32: 1,
  DOS: 2,
  WIN32_AND_DOS: 3,
} as const;

/** Builds a $FILE_NAME value (for builders). */
export function encodeFileName(value: {
  parentRecord: number;
  parentSequence: number;
  name: string;
  namespace: number;
  times?: { created: bigint; modified: bigint; mftModified: bigint; accessed: bigint };
  fileAttributes?: number;
}): Uint8Array {
  const name = encodeUtf16Name(value.name);
  const out = new Uint8Array(FILE_NAME_FIXED_LENGTH + name.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, value.parentRecord % 0x100000000, true);
  dv.setUint16(4, Math.floor(value.parentRecord / 0x100000000), true);
  dv.setUint16(6, value.parentSequence, true);
  const t = value.times;
  if (t) {
    dv.setBigUint64(0x08, t.created, true);
    dv.setBigUint64(0x10, t.modified, true);
    dv.setBigUint64(0x18, t.mftModified, true);
    dv.setBigUint64(0x20, t.accessed, true);
  }
  dv.setUint32(0x38, value.fileAttributes ?? 0, true);
  out[0x40] = value.name.length;
  out[0x41] = value.namespace;
  out.set(name, FILE_NAME_FIXED_LENGTH);
  return out;
}

/**
 * Inode records, the values of the catalog (docs/cartridge-format.md §7.2): kind, size,
 * time, and where the data is: nowhere (empty), inline bytes (≤ 512), one extent record,
 * the root of the file's extent map, or a range of a shared pack (§7.5).
 */
import { defineStruct } from '../struct.js';
import { readU16LE, readU32LE, readU64LE, writeU16LE, writeU32LE, writeU64LE } from '../binary.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { type BlockPointer, BLOCK_POINTER_SIZE, decodeBlockPointer, encodeBlockPointer } from './block-pointer.js';
import { EXTENT_RECORD_SIZE } from './extent-record.js';

export const INODE_HEADER_SIZE = 34;
export const MAX_INLINE_BYTES = 512;

export const InodeKind = { DIRECTORY: 1, FILE: 2, SYMLINK: 3, PACK: 4 } as const;
export type InodeKindId = (typeof InodeKind)[keyof typeof InodeKind];
export const DataMode = { EMPTY: 0, INLINE_BYTES: 1, EXTENT: 2, EXTENT_MAP: 3, PACKED: 4 } as const;
/** dataMode 4 payload: packId u64 LE, offset u32 LE, reserved u32. */
export const PACKED_DATA_SIZE = 16;

export const InodeHeaderStruct = defineStruct('InodeRecord', INODE_HEADER_SIZE, {
  id: { offset: 0, type: 'u64' },
  kind: { offset: 8, type: 'u8' },
  dataMode: { offset: 9, type: 'u8' },
  mode: { offset: 10, type: 'u16' },
  links: { offset: 12, type: 'u32' },
  size: { offset: 16, type: 'u64' },
  mtimeMs: { offset: 24, type: 'u64' },
  dataLength: { offset: 32, type: 'u16' },
});

/**
 * `extent` carries the 64-byte extent record undecoded: checking its address needs the
 * page size and count, which the caller has (decodeExtentRecord).
 */
export type InodeData =
  | { mode: 'empty' }
  | { mode: 'inline'; bytes: Uint8Array }
  | { mode: 'extent'; record: Uint8Array }
  | { mode: 'extent-map'; root: BlockPointer }
  | { mode: 'packed'; packId: number; offset: number };

export interface InodeRecord {
  id: number;
  kind: InodeKindId;
  /** POSIX permission bits; 0 = default. */
  permissions: number;
  size: number;
  mtimeMs: number;
  data: InodeData;
  /** Packs only (kind 4): the files that name this pack (§7.5). */
  links?: number;
}

const MODE_IDS: Record<InodeData['mode'], number> = { empty: DataMode.EMPTY, inline: DataMode.INLINE_BYTES, extent: DataMode.EXTENT, 'extent-map': DataMode.EXTENT_MAP, packed: DataMode.PACKED };

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = (value >>> 16) & 0xff;
  out[at + 3] = (value >>> 24) & 0xff;
}

function dataPayload(data: InodeData): Uint8Array {
  switch (data.mode) {
    case 'empty':
      return new Uint8Array(0);
    case 'inline':
      if (data.bytes.length > MAX_INLINE_BYTES) throw new Error(`inline data of ${data.bytes.length} bytes`);
      return data.bytes;
    case 'extent':
      if (data.record.length !== EXTENT_RECORD_SIZE) throw new Error(`extent record of ${data.record.length} bytes`);
      return data.record;
    case 'extent-map': {
      const out = new Uint8Array(BLOCK_POINTER_SIZE);
      encodeBlockPointer(data.root, out);
      return out;
    }
    case 'packed': {
      // Number arithmetic rather than a DataView and a BigInt: a bulk import encodes one per small file.
      const out = new Uint8Array(PACKED_DATA_SIZE);
      writeU32(out, 0, data.packId >>> 0);
      writeU32(out, 4, Math.floor(data.packId / 0x100000000));
      writeU32(out, 8, data.offset);
      return out;
    }
  }
}

export function encodeInodeRecord(inode: InodeRecord): Uint8Array {
  const data = inode.data;
  const payload = dataPayload(data);
  const out = new Uint8Array(INODE_HEADER_SIZE + payload.length);
  // InodeHeaderStruct.encode, unrolled (as decodeHeader below): a bulk import encodes one per entry.
  const f = InodeHeaderStruct.fields;
  writeU64LE(out, f.id.offset, inode.id);
  out[f.kind.offset] = inode.kind;
  out[f.dataMode.offset] = MODE_IDS[data.mode];
  writeU16LE(out, f.mode.offset, inode.permissions);
  writeU32LE(out, f.links.offset, inode.kind === InodeKind.PACK ? (inode.links ?? 0) : 0);
  writeU64LE(out, f.size.offset, inode.size);
  writeU64LE(out, f.mtimeMs.offset, inode.mtimeMs);
  writeU16LE(out, f.dataLength.offset, payload.length);
  out.set(payload, INODE_HEADER_SIZE);
  return out;
}

/**
 * InodeHeaderStruct.decode, unrolled: every listed entry and every file opened decodes
 * one, and the generic decoder (an object built field by field) showed in cp -r profiles.
 */
function decodeHeader(value: Uint8Array) {
  const f = InodeHeaderStruct.fields;
  return {
    id: readU64LE(value, f.id.offset),
    kind: value[f.kind.offset]!,
    dataMode: value[f.dataMode.offset]!,
    mode: readU16LE(value, f.mode.offset),
    links: readU32LE(value, f.links.offset),
    size: readU64LE(value, f.size.offset),
    mtimeMs: readU64LE(value, f.mtimeMs.offset),
    dataLength: readU16LE(value, f.dataLength.offset),
  };
}

function badInode(id: number, what: string): DiskkitError {
  return new DiskkitError(ErrorCode.CORRUPT, `inode ${id}: ${what}`, { context: { inode: id } });
}

/**
 * Decodes one catalog value. `packed` says whether the image has PACKED_FILES (§3): without
 * it, packs and data modes 2 and 4 are corrupt (a 1.0 image never holds them).
 */
export function decodeInodeRecord(value: Uint8Array, packed = true): InodeRecord {
  if (value.length < INODE_HEADER_SIZE) throw new DiskkitError(ErrorCode.CORRUPT, `inode record of ${value.length} bytes`, { context: { length: value.length } });
  const raw = decodeHeader(value);
  if (raw.kind < 1 || raw.kind > (packed ? 4 : 3)) throw badInode(raw.id, `unknown kind ${raw.kind}`);
  if (raw.kind === InodeKind.PACK ? raw.dataMode !== DataMode.EXTENT || raw.links === 0 : raw.links !== 0) throw badInode(raw.id, `kind ${raw.kind} with data mode ${raw.dataMode} and ${raw.links} links`);
  if (!packed && (raw.dataMode === DataMode.EXTENT || raw.dataMode === DataMode.PACKED)) throw badInode(raw.id, `data mode ${raw.dataMode} in an image without PACKED_FILES`);
  if (INODE_HEADER_SIZE + raw.dataLength !== value.length) throw badInode(raw.id, `data length ${raw.dataLength} disagrees with the record`);
  const payload = value.subarray(INODE_HEADER_SIZE);
  let data: InodeData;
  if (raw.dataMode === DataMode.EMPTY) {
    if (raw.dataLength !== 0 || (raw.size !== 0 && raw.kind !== InodeKind.FILE)) throw badInode(raw.id, 'empty data with a payload');
    data = { mode: 'empty' };
  } else if (raw.dataMode === DataMode.INLINE_BYTES) {
    if (raw.dataLength > MAX_INLINE_BYTES || raw.size !== raw.dataLength) throw badInode(raw.id, `inline data of ${raw.dataLength} bytes for size ${raw.size}`);
    data = { mode: 'inline', bytes: payload.slice() };
  } else if (raw.dataMode === DataMode.EXTENT) {
    if (raw.dataLength !== EXTENT_RECORD_SIZE || raw.kind === InodeKind.DIRECTORY) throw badInode(raw.id, 'extent data without a record');
    data = { mode: 'extent', record: payload.slice() };
  } else if (raw.dataMode === DataMode.PACKED) {
    if (raw.dataLength !== PACKED_DATA_SIZE || raw.kind !== InodeKind.FILE) throw badInode(raw.id, 'packed data without a pack reference');
    // Number arithmetic rather than a DataView and a BigInt (as dataPayload writes it): every listed small file decodes one.
    const packId = readU32LE(payload, 4) * 0x100000000 + readU32LE(payload, 0);
    if (!Number.isSafeInteger(packId) || packId <= 1) throw badInode(raw.id, `pack id ${packId}`);
    data = { mode: 'packed', packId, offset: readU32LE(payload, 8) };
  } else if (raw.dataMode === DataMode.EXTENT_MAP) {
    if (raw.dataLength !== BLOCK_POINTER_SIZE) throw badInode(raw.id, 'extent map without a pointer');
    data = { mode: 'extent-map', root: decodeBlockPointer(payload) };
  } else {
    throw new DiskkitError(ErrorCode.UNSUPPORTED, `inode ${raw.id}: data mode ${raw.dataMode} is not supported by this reader`, { context: { inode: raw.id } });
  }
  const inode: InodeRecord = { id: raw.id, kind: raw.kind as InodeKindId, permissions: raw.mode, size: raw.size, mtimeMs: raw.mtimeMs, data };
  if (raw.kind === InodeKind.PACK) inode.links = raw.links;
  return inode;
}

/**
 * Inode records, the values of the catalog (docs/cartridge-format.md §7.2): kind, size,
 * time, and where the data is: nowhere (empty), inline bytes (≤ 512), inline extents,
 * or the root of the file's extent map.
 */
import { defineStruct } from '../struct.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { type BlockPointer, BLOCK_POINTER_SIZE, decodeBlockPointer, encodeBlockPointer } from './block-pointer.js';

export const INODE_HEADER_SIZE = 34;
export const MAX_INLINE_BYTES = 512;

export const InodeKind = { DIRECTORY: 1, FILE: 2, SYMLINK: 3 } as const;
export type InodeKindId = (typeof InodeKind)[keyof typeof InodeKind];
export const DataMode = { EMPTY: 0, INLINE_BYTES: 1, INLINE_EXTENTS: 2, EXTENT_MAP: 3 } as const;

export const InodeHeaderStruct = defineStruct('InodeRecord', INODE_HEADER_SIZE, {
  id: { offset: 0, type: 'u64' },
  kind: { offset: 8, type: 'u8' },
  dataMode: { offset: 9, type: 'u8' },
  mode: { offset: 10, type: 'u16' },
  reserved12: { offset: 12, type: 'u32' },
  size: { offset: 16, type: 'u64' },
  mtimeMs: { offset: 24, type: 'u64' },
  dataLength: { offset: 32, type: 'u16' },
});

export type InodeData = { mode: 'empty' } | { mode: 'inline'; bytes: Uint8Array } | { mode: 'extent-map'; root: BlockPointer };

export interface InodeRecord {
  id: number;
  kind: InodeKindId;
  /** POSIX permission bits; 0 = default. */
  permissions: number;
  size: number;
  mtimeMs: number;
  data: InodeData;
}

export function encodeInodeRecord(inode: InodeRecord): Uint8Array {
  const data = inode.data;
  const payload = data.mode === 'inline' ? data.bytes : data.mode === 'extent-map' ? new Uint8Array(BLOCK_POINTER_SIZE) : new Uint8Array(0);
  if (data.mode === 'inline' && payload.length > MAX_INLINE_BYTES) throw new Error(`inline data of ${payload.length} bytes`);
  if (data.mode === 'extent-map') encodeBlockPointer(data.root, payload);
  const out = new Uint8Array(INODE_HEADER_SIZE + payload.length);
  InodeHeaderStruct.encode(
    {
      id: inode.id,
      kind: inode.kind,
      dataMode: data.mode === 'inline' ? DataMode.INLINE_BYTES : data.mode === 'extent-map' ? DataMode.EXTENT_MAP : DataMode.EMPTY,
      mode: inode.permissions,
      reserved12: 0,
      size: inode.size,
      mtimeMs: inode.mtimeMs,
      dataLength: payload.length,
    },
    out,
  );
  out.set(payload, INODE_HEADER_SIZE);
  return out;
}

export function decodeInodeRecord(value: Uint8Array): InodeRecord {
  const raw = InodeHeaderStruct.decode(value);
  const bad = (what: string) => new DiskkitError(ErrorCode.CORRUPT, `inode ${raw.id}: ${what}`, { context: { inode: raw.id } });
  if (raw.kind < 1 || raw.kind > 3) throw bad(`unknown kind ${raw.kind}`);
  if (INODE_HEADER_SIZE + raw.dataLength !== value.length) throw bad(`data length ${raw.dataLength} disagrees with the record`);
  const payload = value.subarray(INODE_HEADER_SIZE);
  let data: InodeData;
  if (raw.dataMode === DataMode.EMPTY) {
    if (raw.dataLength !== 0 || (raw.size !== 0 && raw.kind !== InodeKind.FILE)) throw bad('empty data with a payload');
    data = { mode: 'empty' };
  } else if (raw.dataMode === DataMode.INLINE_BYTES) {
    if (raw.dataLength > MAX_INLINE_BYTES || raw.size !== raw.dataLength) throw bad(`inline data of ${raw.dataLength} bytes for size ${raw.size}`);
    data = { mode: 'inline', bytes: payload.slice() };
  } else if (raw.dataMode === DataMode.EXTENT_MAP) {
    if (raw.dataLength !== BLOCK_POINTER_SIZE) throw bad('extent map without a pointer');
    data = { mode: 'extent-map', root: decodeBlockPointer(payload) };
  } else {
    throw new DiskkitError(ErrorCode.UNSUPPORTED, `inode ${raw.id}: data mode ${raw.dataMode} is not supported by this reader`, { context: { inode: raw.id } });
  }
  return { id: raw.id, kind: raw.kind as InodeKindId, permissions: raw.mode, size: raw.size, mtimeMs: raw.mtimeMs, data };
}

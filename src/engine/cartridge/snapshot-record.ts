/**
 * Snapshot table values (docs/cartridge-format.md §7.4, §13): the pinned generation and
 * the catalog root of that commit, keyed by name in a B+tree of SNAPSHOT_NODE pages.
 */
import { defineStruct } from '../struct.js';
import { type BlockPointer, BLOCK_POINTER_SIZE, decodeBlockPointer, encodeBlockPointer } from './block-pointer.js';

export const SNAPSHOT_RECORD_SIZE = 80;

export const SnapshotRecordStruct = defineStruct('SnapshotRecord', SNAPSHOT_RECORD_SIZE, {
  generation: { offset: 0, type: 'u64' },
  createdMs: { offset: 8, type: 'u64' },
  fileCount: { offset: 16, type: 'u64' },
  nextInodeId: { offset: 24, type: 'u64' },
  catalogRoot: { offset: 32, type: { bytes: BLOCK_POINTER_SIZE } },
});

export interface SnapshotRecord {
  generation: number;
  createdMs: number;
  fileCount: number;
  nextInodeId: number;
  catalogRoot: BlockPointer;
}

export function encodeSnapshotRecord(record: SnapshotRecord): Uint8Array {
  const out = new Uint8Array(SNAPSHOT_RECORD_SIZE);
  const pointer = new Uint8Array(BLOCK_POINTER_SIZE);
  encodeBlockPointer(record.catalogRoot, pointer);
  SnapshotRecordStruct.encode({ ...record, catalogRoot: pointer }, out);
  return out;
}

export function decodeSnapshotRecord(value: Uint8Array): SnapshotRecord {
  const raw = SnapshotRecordStruct.decode(value);
  return { generation: raw.generation, createdMs: raw.createdMs, fileCount: raw.fileCount, nextInodeId: raw.nextInodeId, catalogRoot: decodeBlockPointer(raw.catalogRoot) };
}

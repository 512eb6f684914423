/**
 * The compact, columnar form the indexer keeps: one slot per MFT record in typed
 * arrays (optionally over a SharedArrayBuffer so parse workers fill disjoint slices
 * in place). The variable parts — names and named streams — are lists of their own
 * (name-list.ts). Nothing here is a per-record object, so a million records cost
 * tens of megabytes and cross thread boundaries as buffers.
 */
import { zeroedForReuse } from './zeroed-reuse.js';

/** Bits of `RecordTable.present`. */
export const Present = {
  STANDARD_INFORMATION: 0x01,
  /** The unnamed $DATA's first piece (start VCN 0) was seen, so size/allocated are known. */
  DATA: 0x02,
  INDEX_ROOT: 0x04,
  INDEX_ALLOCATION: 0x08,
  REPARSE_POINT: 0x10,
  ATTRIBUTE_LIST: 0x20,
} as const;

/** Per-record columns, in the order they are laid out in one buffer. */
const COLUMNS = [
  ['status', Uint8Array, 1],
  ['present', Uint8Array, 1],
  ['flags', Uint16Array, 1],
  ['sequence', Uint16Array, 1],
  ['links', Uint16Array, 1],
  ['baseSequence', Uint16Array, 1],
  ['dataFlags', Uint16Array, 1],
  ['dataAttributeId', Uint16Array, 1],
  ['indexRootAttributeId', Uint16Array, 1],
  ['fileAttributes', Uint32Array, 1],
  ['reparseTag', Uint32Array, 1],
  ['siTimes', Uint32Array, 8],
  ['baseRecord', Float64Array, 1],
  ['size', Float64Array, 1],
  ['allocated', Float64Array, 1],
] as const;

type Columns = {
  status: Uint8Array;
  present: Uint8Array;
  flags: Uint16Array;
  sequence: Uint16Array;
  links: Uint16Array;
  baseSequence: Uint16Array;
  dataFlags: Uint16Array;
  /** Instance ids of the unnamed $DATA and of the $I30 $INDEX_ROOT (TSK's INODE-128-ID / INODE-144-ID), where present. */
  dataAttributeId: Uint16Array;
  indexRootAttributeId: Uint16Array;
  fileAttributes: Uint32Array;
  reparseTag: Uint32Array;
  /** Four FILETIMEs per record as (lo, hi) u32 pairs: created, modified, mftModified, accessed. */
  siTimes: Uint32Array;
  baseRecord: Float64Array;
  size: Float64Array;
  allocated: Float64Array;
};

function layout(count: number): { offsets: number[]; bytes: number } {
  const offsets: number[] = [];
  let at = 0;
  for (const [, Type, per] of COLUMNS) {
    at = Math.ceil(at / 8) * 8;
    offsets.push(at);
    at += count * per * Type.BYTES_PER_ELEMENT;
  }
  return { offsets, bytes: Math.ceil(at / 8) * 8 };
}

export interface RecordTable extends Columns {
  readonly count: number;
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

/** Bytes a table for `count` records takes. */
export function recordTableBytes(count: number): number {
  return layout(count).bytes;
}

/**
 * Allocates a table for `count` records, on a SharedArrayBuffer when `shared`; in
 * `reuse` (a previous table's buffer, index-memory.ts) when it is of that kind and large enough.
 */
export function allocateRecordTable(count: number, shared = false, reuse?: ArrayBuffer | SharedArrayBuffer): RecordTable {
  const { bytes } = layout(count);
  const buffer = zeroedForReuse(reuse, bytes, shared) ?? (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  return attachRecordTable(buffer, count);
}

/** Views an existing buffer (e.g. received by a worker) as a table; the buffer may be larger than the table. */
export function attachRecordTable(buffer: ArrayBuffer | SharedArrayBuffer, count: number): RecordTable {
  const { offsets } = layout(count);
  const table = { count, buffer } as Record<string, unknown>;
  COLUMNS.forEach(([name, Type, per], i) => {
    table[name] = new Type(buffer as ArrayBuffer, offsets[i]!, count * per);
  });
  return table as unknown as RecordTable;
}

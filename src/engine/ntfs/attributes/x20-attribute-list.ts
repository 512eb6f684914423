/**
 * $ATTRIBUTE_LIST (type 0x20): when a file's attributes do not fit one record, the
 * base record lists every attribute and the record that holds it (Linux-NTFS
 * documentation, "$ATTRIBUTE_LIST"). It may itself be resident or non-resident
 * (edge case 5). Entries are kept in on-disk order; the list is size-capped.
 */
import { defineStruct } from '../../struct.js';
import { DiskkitError, ErrorCode } from '../../errors.js';
import { decodeUtf16Name, encodeUtf16Name } from './attribute-header.js';
import { referenceRecord, referenceSequence } from '../mft-record.js';

export const ATTRIBUTE_LIST_TYPE = 0x20;

export const AttributeListEntry = defineStruct('AttributeListEntry', 0x1a, {
  type: { offset: 0x00, type: 'u32' },
  entryLength: { offset: 0x04, type: 'u16' },
  nameLength: { offset: 0x06, type: 'u8' },
  nameOffset: { offset: 0x07, type: 'u8' },
  startVcn: { offset: 0x08, type: 'u64' },
  /** File reference of the record that holds the attribute. */
  record: { offset: 0x10, type: 'u64' },
  attributeId: { offset: 0x18, type: 'u16' },
});

/** A list longer than this is hostile: 256 KiB is far beyond what NTFS writes for any real file. */
export const MAX_ATTRIBUTE_LIST_BYTES = 256 * 1024;

export interface AttributeListItem {
  type: number;
  startVcn: number;
  record: number;
  sequence: number;
  attributeId: number;
  name: string;
}

/** Decodes a whole attribute list value, in on-disk order; throws E_BAD_RECORD when an entry overflows it. */
export function decodeAttributeList(value: Uint8Array): AttributeListItem[] {
  if (value.length > MAX_ATTRIBUTE_LIST_BYTES) {
    throw new DiskkitError(ErrorCode.LIMIT, `attribute list of ${value.length} bytes exceeds ${MAX_ATTRIBUTE_LIST_BYTES}`, { context: { length: value.length } });
  }
  const items: AttributeListItem[] = [];
  let at = 0;
  while (at + AttributeListEntry.size <= value.length) {
    const e = AttributeListEntry.decode(value, at);
    if (e.entryLength < AttributeListEntry.size || at + e.entryLength > value.length || e.nameOffset + 2 * e.nameLength > e.entryLength) {
      throw new DiskkitError(ErrorCode.BAD_RECORD, 'attribute list entry overflows the list', { context: { offset: at, entryLength: e.entryLength } });
    }
    items.push({
      type: e.type,
      startVcn: e.startVcn,
      record: referenceRecord(value, at + 0x10),
      sequence: referenceSequence(value, at + 0x10),
      attributeId: e.attributeId,
      name: decodeUtf16Name(value, at + e.nameOffset, e.nameLength),
    });
    at += e.entryLength;
  }
  return items;
}

/** Hot-path check used while indexing: true when every entry fits the value. */
export function isAttributeListWellFormed(buf: Uint8Array, at: number, length: number): boolean {
  if (length > MAX_ATTRIBUTE_LIST_BYTES) return false;
  let p = 0;
  while (p + 0x1a <= length) {
    const entryLength = buf[at + p + 4]! | (buf[at + p + 5]! << 8);
    const nameLength = buf[at + p + 6]!;
    const nameOffset = buf[at + p + 7]!;
    if (entryLength < 0x1a || p + entryLength > length || nameOffset + 2 * nameLength > entryLength) return false;
    p += entryLength;
  }
  return true;
}

/** Encodes attribute list entries (for builders). */
export function encodeAttributeList(items: readonly AttributeListItem[]): Uint8Array {
  const parts = items.map((item) => {
    const name = encodeUtf16Name(item.name);
    const length = (0x1a + name.length + 7) & ~7;
    const out = new Uint8Array(length);
    AttributeListEntry.encode({ type: item.type, entryLength: length, nameLength: item.name.length, nameOffset: 0x1a, startVcn: item.startVcn, attributeId: item.attributeId }, out);
    const dv = new DataView(out.buffer);
    dv.setUint32(0x10, item.record % 0x100000000, true);
    dv.setUint16(0x14, Math.floor(item.record / 0x100000000), true);
    dv.setUint16(0x16, item.sequence, true);
    out.set(name, 0x1a);
    return out;
  });
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The hot path: parses a run of consecutive MFT records from a buffer into the
 * record table and the name/stream lists. It never writes the buffer (so it can
 * parse a memory-mapped or shared chunk where it lies, without copying), bounds-checks
 * every header, attribute and run list against the record, and never throws on bad
 * data: a record that fails a check gets a status and the chunk goes on.
 */
import { applyFixups, checkFixups, FIXUP_STRIDE, FixupStatus, type FixupStatusValue } from './fixup.js';
import { RecordStatus, SIGNATURE_BAAD, SIGNATURE_FILE } from './mft-record.js';
import { ATTRIBUTE_ID_OFFSET, AttributeFlag, AttributeType, MIN_NON_RESIDENT_LENGTH, MIN_RESIDENT_LENGTH } from './attributes/attribute-header.js';
import { MIN_STANDARD_INFORMATION_LENGTH, readStandardInformation } from './attributes/x10-standard-information.js';
import { FILE_NAME_FIXED_LENGTH, FILE_NAME_LENGTH_OFFSET, FILE_NAME_NAMESPACE_OFFSET, FILE_NAME_TIMES_OFFSET } from './attributes/x30-file-name.js';
import { isAttributeListWellFormed } from './attributes/x20-attribute-list.js';
import { DATA_ALLOCATED_SIZE_OFFSET, DATA_REAL_SIZE_OFFSET } from './attributes/x80-data.js';
import { REPARSE_TAG_LENGTH } from './attributes/xc0-reparse-point.js';
import { checkDataRuns, RunCheck } from './data-runs.js';
import { isBitSet } from './attributes/xb0-bitmap.js';
import { Present, type RecordTable } from './record-table.js';
import type { NameList } from './name-list.js';

export interface ParseContext {
  table: RecordTable;
  names: NameList;
  streams: NameList;
  recordSize: number;
  /** Clusters in the volume, for run-list checks; Infinity for a bare dump. */
  clusterCount: number;
  /** $MFT's $BITMAP when records marked free are to be skipped. */
  bitmap?: Uint8Array | undefined;
}

/**
 * Little-endian reads through one DataView of the chunk being parsed (set by
 * parseRecords): V8 compiles these to single loads. Every offset is checked
 * against the record before it is read.
 */
let dv: DataView = new DataView(new ArrayBuffer(8));
let dvOf: Uint8Array | null = null;
const u16 = (_b: Uint8Array, o: number): number => dv.getUint16(o, true);
const u32 = (_b: Uint8Array, o: number): number => dv.getUint32(o, true);
/** u64 as a number, or -1 when it does not fit 53 bits (hostile sizes). */
const u64 = (b: Uint8Array, o: number): number => {
  const hi = u32(b, o + 4);
  return hi > 0x1fffff ? -1 : hi * 0x100000000 + u32(b, o);
};

/**
 * Parses `count` records found at `buf[byteOffset..]`, the first being record
 * number `firstRecord`. Returns nothing: results are in the context's table and lists.
 */
export function parseRecords(ctx: ParseContext, buf: Uint8Array, byteOffset: number, firstRecord: number, count: number): void {
  const { recordSize } = ctx;
  if (buf !== dvOf) {
    dv = new DataView(buf.buffer as ArrayBuffer, buf.byteOffset, buf.byteLength);
    dvOf = buf;
  }
  for (let i = 0; i < count; i++) {
    const record = firstRecord + i;
    if (ctx.bitmap && !isBitSet(ctx.bitmap, record)) {
      ctx.table.status[record] = RecordStatus.NOT_READ;
      continue;
    }
    parseRecord(ctx, buf, byteOffset + i * recordSize, record);
  }
}

/**
 * The chunk is never written (it may be a read-only view of a memory mapping, or
 * shared memory): a record whose used part ends before the first stride end needs
 * no byte restored, only its fixups checked; the others are fixed up in a copy.
 */
let scratch = new Uint8Array(0);
let scratchView = new DataView(scratch.buffer);

function parseRecord(ctx: ParseContext, buf: Uint8Array, at: number, record: number): void {
  const { table, recordSize } = ctx;
  const signature = u32(buf, at);
  if (signature !== SIGNATURE_FILE) {
    table.status[record] = signature === 0 ? RecordStatus.EMPTY : signature === SIGNATURE_BAAD ? RecordStatus.BAAD : RecordStatus.GARBAGE;
    return;
  }
  const usaOffset = u16(buf, at + 4);
  const usaCount = u16(buf, at + 6);
  const bytesInUse = u32(buf, at + 0x18);
  if (bytesInUse <= FIXUP_STRIDE - 2) {
    parseFixedRecord(ctx, buf, at, record, checkFixups(buf, at, recordSize, usaOffset, usaCount));
    return;
  }
  if (scratch.length < recordSize) {
    scratch = new Uint8Array(recordSize);
    scratchView = new DataView(scratch.buffer);
  }
  scratch.set(buf.subarray(at, at + recordSize));
  const chunkView = dv;
  dv = scratchView;
  try {
    parseFixedRecord(ctx, scratch, 0, record, applyFixups(scratch, 0, recordSize, usaOffset, usaCount));
  } finally {
    dv = chunkView;
  }
}

/** The rest of parseRecord, on a record whose fixups were checked (`fixup`) and, where needed, applied. */
function parseFixedRecord(ctx: ParseContext, buf: Uint8Array, at: number, record: number, fixup: FixupStatusValue): void {
  const { table, recordSize } = ctx;
  if (fixup === FixupStatus.BAD_ARRAY) {
    table.status[record] = RecordStatus.CORRUPT;
    return;
  }
  table.sequence[record] = u16(buf, at + 0x10);
  table.links[record] = u16(buf, at + 0x12);
  const flags = u16(buf, at + 0x16);
  table.flags[record] = flags;
  table.baseRecord[record] = u32(buf, at + 0x20) + u16(buf, at + 0x24) * 0x100000000;
  table.baseSequence[record] = u16(buf, at + 0x26);
  const firstAttribute = u16(buf, at + 0x14);
  const bytesInUse = u32(buf, at + 0x18);
  if (bytesInUse > recordSize || firstAttribute < 0x18 || firstAttribute + 8 > bytesInUse) {
    table.status[record] = RecordStatus.CORRUPT;
    return;
  }
  const namesMark = ctx.names.beginRecord();
  const streamsMark = ctx.streams.beginRecord();
  if (!parseAttributes(ctx, buf, at + firstAttribute, at + bytesInUse, record)) {
    ctx.names.dropRecord(namesMark);
    ctx.streams.dropRecord(streamsMark);
    table.present[record] = 0;
    table.status[record] = RecordStatus.CORRUPT;
    return;
  }
  table.status[record] = fixup === FixupStatus.TORN ? RecordStatus.TORN : RecordStatus.OK;
}

/** Walks the attributes in [start, end); false when one overflows the record or is malformed. */
function parseAttributes(ctx: ParseContext, buf: Uint8Array, start: number, end: number, record: number): boolean {
  const { table } = ctx;
  let present = 0;
  let p = start;
  // Every attribute is at least 0x18 bytes, which bounds the loop without a counter.
  while (p + 4 <= end) {
    const type = u32(buf, p);
    if (type === AttributeType.END) break;
    if (p + MIN_RESIDENT_LENGTH > end) return false;
    const length = u32(buf, p + 4);
    if (length < MIN_RESIDENT_LENGTH || p + length > end || (length & 7) !== 0) return false;
    const nonResident = buf[p + 8]!;
    const nameLength = buf[p + 9]!;
    const nameOffset = u16(buf, p + 10);
    const attrFlags = u16(buf, p + 12);
    if (nameLength > 0 && nameOffset + 2 * nameLength > length) return false;
    let valueAt = 0;
    let valueLength = 0;
    if (nonResident === 0) {
      valueLength = u32(buf, p + 0x10);
      const valueOffset = u16(buf, p + 0x14);
      if (valueOffset + valueLength > length) return false;
      valueAt = p + valueOffset;
    } else {
      if (length < MIN_NON_RESIDENT_LENGTH) return false;
      const runsOffset = u16(buf, p + 0x20);
      if (runsOffset < MIN_NON_RESIDENT_LENGTH || runsOffset > length) return false;
      if (checkDataRuns(buf, p + runsOffset, p + length, ctx.clusterCount) !== RunCheck.OK) return false;
    }
    switch (type) {
      case AttributeType.STANDARD_INFORMATION:
        if (nonResident !== 0 || valueLength < MIN_STANDARD_INFORMATION_LENGTH) return false;
        table.fileAttributes[record] = readStandardInformation(dv, valueAt, table.siTimes, record * 8);
        present |= Present.STANDARD_INFORMATION;
        break;
      case AttributeType.ATTRIBUTE_LIST:
        if (nonResident === 0 && !isAttributeListWellFormed(buf, valueAt, valueLength)) return false;
        present |= Present.ATTRIBUTE_LIST;
        break;
      case AttributeType.FILE_NAME: {
        if (nonResident !== 0 || valueLength < FILE_NAME_FIXED_LENGTH) return false;
        const units = buf[valueAt + FILE_NAME_LENGTH_OFFSET]!;
        if (FILE_NAME_FIXED_LENGTH + 2 * units > valueLength) return false;
        addName(ctx.names, buf, valueAt, units, record, u16(buf, p + ATTRIBUTE_ID_OFFSET));
        break;
      }
      case AttributeType.DATA: {
        let size: number;
        let allocated: number;
        if (nonResident === 0) {
          size = valueLength;
          allocated = 0;
        } else {
          // Only the first piece of a non-resident attribute carries the sizes.
          if (u64(buf, p + 0x10) !== 0) break;
          size = u64(buf, p + DATA_REAL_SIZE_OFFSET);
          allocated = u64(buf, p + DATA_ALLOCATED_SIZE_OFFSET);
          if (size < 0 || allocated < 0) return false;
        }
        if (nameLength === 0) {
          table.size[record] = size;
          table.allocated[record] = allocated;
          table.dataFlags[record] = attrFlags & (AttributeFlag.COMPRESSED | AttributeFlag.ENCRYPTED | AttributeFlag.SPARSE);
          table.dataAttributeId[record] = u16(buf, p + ATTRIBUTE_ID_OFFSET);
          present |= Present.DATA;
        } else {
          addStream(ctx.streams, buf, p + nameOffset, nameLength, record, size, allocated, attrFlags, u16(buf, p + ATTRIBUTE_ID_OFFSET));
        }
        break;
      }
      case AttributeType.INDEX_ROOT:
        present |= Present.INDEX_ROOT;
        table.indexRootAttributeId[record] = u16(buf, p + ATTRIBUTE_ID_OFFSET);
        break;
      case AttributeType.INDEX_ALLOCATION:
        present |= Present.INDEX_ALLOCATION;
        break;
      case AttributeType.REPARSE_POINT:
        present |= Present.REPARSE_POINT;
        if (nonResident === 0 && valueLength >= REPARSE_TAG_LENGTH) table.reparseTag[record] = u32(buf, valueAt);
        break;
      default:
        break;
    }
    p += length;
  }
  table.present[record] = present;
  return true;
}

function addName(names: NameList, buf: Uint8Array, at: number, units: number, record: number, attributeId: number): void {
  const i = names.reserve(units);
  names.owner[i] = record;
  names.attributeId[i] = attributeId;
  names.parent[i] = u32(buf, at) + u16(buf, at + 4) * 0x100000000;
  names.parentSequence[i] = u16(buf, at + 6);
  names.namespace[i] = buf[at + FILE_NAME_NAMESPACE_OFFSET]!;
  const times = names.times;
  const slot = i * 8;
  for (let k = 0; k < 8; k++) {
    const o = at + FILE_NAME_TIMES_OFFSET + 4 * k;
    times[slot + k] = u32(buf, o);
  }
  const chars = names.chars;
  let c = names.charStart[i]!;
  const nameAt = at + FILE_NAME_FIXED_LENGTH;
  for (let k = 0; k < units; k++) chars[c++] = u16(buf, nameAt + 2 * k);
}

function addStream(streams: NameList, buf: Uint8Array, nameAt: number, units: number, record: number, size: number, allocated: number, flags: number, attributeId: number): void {
  const i = streams.reserve(units);
  streams.owner[i] = record;
  streams.attributeId[i] = attributeId;
  streams.parent[i] = size;
  streams.parentSequence[i] = 0;
  streams.namespace[i] = flags & 0xff;
  streams.times[i * 8] = allocated % 0x100000000;
  streams.times[i * 8 + 1] = Math.floor(allocated / 0x100000000);
  const chars = streams.chars;
  let c = streams.charStart[i]!;
  for (let k = 0; k < units; k++) chars[c++] = buf[nameAt + 2 * k]! | (buf[nameAt + 2 * k + 1]! << 8);
}

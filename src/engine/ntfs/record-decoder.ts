/**
 * A detailed, allocation-happy decoder of one MFT record into attribute objects.
 * The indexer's hot path (parse-records.ts) does not use it; it serves the few
 * records read one at a time — `$MFT`'s own record 0 and its extension records, to
 * find the MFT's data runs and $BITMAP — and tests that look inside a record.
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import { applyFixups, FixupStatus } from './fixup.js';
import { MftRecordHeader, SIGNATURE_FILE, referenceRecord, referenceSequence } from './mft-record.js';
import { AttributeHeader, AttributeType, MIN_NON_RESIDENT_LENGTH, MIN_RESIDENT_LENGTH, NonResidentHeader, ResidentHeader, decodeUtf16Name } from './attributes/attribute-header.js';
import { decodeRunList, type RunList } from './data-runs.js';
import { readU16LE, readU32LE, readU64LE } from '../binary.js';

export interface DecodedAttribute {
  type: number;
  name: string;
  flags: number;
  /** Attribute id, unique within the file (The Sleuth Kit's TYPE-ID addressing). */
  id: number;
  nonResident: boolean;
  /** Resident value (a copy). */
  value?: Uint8Array;
  startVcn: number;
  lastVcn: number;
  /** Non-resident only: the decoded run list (typed arrays, no object per run). */
  runList?: RunList;
  dataSize: number;
  allocatedSize: number;
  /** Non-resident only: bytes written so far; past it the stream reads as zeros. */
  initializedSize: number;
  /** Non-resident only: log2 of the compression unit in clusters (0 = not compressed). */
  compressionUnit: number;
}

export interface DecodedRecord {
  sequence: number;
  flags: number;
  linkCount: number;
  baseRecord: number;
  baseSequence: number;
  torn: boolean;
  attributes: DecodedAttribute[];
}

const R = MftRecordHeader.fields;
const A = AttributeHeader.fields;
const RH = ResidentHeader.fields;
const NR = NonResidentHeader.fields;

function corrupt(message: string, context: Record<string, unknown>): DiskkitError {
  return new DiskkitError(ErrorCode.BAD_RECORD, message, { context });
}

/**
 * Applies fixups to `record` (in place) and decodes its attributes. Throws
 * E_BAD_RECORD for a missing FILE signature, a bad fixup array, or an attribute
 * that overflows the record; `clusterCount` bounds run lists.
 */
export function decodeRecord(record: Uint8Array, clusterCount = Infinity, recordNumber?: number, fixupStatus?: number): DecodedRecord {
  const where = { record: recordNumber };
  if (record.length < MftRecordHeader.size) throw corrupt('MFT record shorter than its header', where);
  // Fields are read in place at the offsets the struct definitions give (no object per
  // header): every file the volume reader lists or opens comes through here.
  if (readU32LE(record, R.signature.offset) !== SIGNATURE_FILE) throw corrupt('MFT record has no FILE signature', where);
  // A caller that applied the fixups already (record-reader.ts, per cached block) passes their status.
  const fixup = fixupStatus ?? applyFixups(record, 0, record.length, readU16LE(record, R.usaOffset.offset), readU16LE(record, R.usaCount.offset));
  if (fixup === FixupStatus.BAD_ARRAY) throw corrupt('MFT record fixup array does not fit the record', where);
  const end = Math.min(readU32LE(record, R.bytesInUse.offset), record.length);
  const attributes: DecodedAttribute[] = [];
  let p = readU16LE(record, R.firstAttributeOffset.offset);
  while (p + 4 <= end) {
    const type = readU32LE(record, p + A.type.offset);
    if (type === AttributeType.END) break;
    if (p + MIN_RESIDENT_LENGTH > end) throw corrupt('attribute header overflows the record', { ...where, offset: p });
    const length = readU32LE(record, p + A.length.offset);
    if (length < MIN_RESIDENT_LENGTH || p + length > end) throw corrupt('attribute overflows the record', { ...where, offset: p });
    attributes.push(decodeAttribute(record.subarray(p, p + length), clusterCount, recordNumber, p));
    p += length;
  }
  return {
    sequence: readU16LE(record, R.sequence.offset),
    flags: readU16LE(record, R.flags.offset),
    linkCount: readU16LE(record, R.linkCount.offset),
    baseRecord: referenceRecord(record, 0x20),
    baseSequence: referenceSequence(record, 0x20),
    torn: fixup === FixupStatus.TORN,
    attributes,
  };
}

/**
 * One attribute (`body` = its bytes, header included, as long as its length field says),
 * for decodeRecord and for RecordReader.unnamedData. Throws E_BAD_RECORD as decodeRecord
 * does; `offset` (of the attribute within its record) goes into the error context.
 */
export function decodeAttribute(body: Uint8Array, clusterCount: number, recordNumber: number | undefined, offset: number): DecodedAttribute {
  const where = { record: recordNumber };
  const length = body.length;
  const type = readU32LE(body, A.type.offset);
  const nameLength = body[A.nameLength.offset]!;
  const nameOffset = readU16LE(body, A.nameOffset.offset);
  const flags = readU16LE(body, A.flags.offset);
  const id = readU16LE(body, A.attributeId.offset);
  if (nameLength > 0 && nameOffset + 2 * nameLength > length) throw corrupt('attribute name overflows the attribute', { ...where, offset });
  const name = nameLength === 0 ? '' : decodeUtf16Name(body, nameOffset, nameLength);
  if (body[A.nonResident.offset] === 0) {
    const valueLength = readU32LE(body, RH.valueLength.offset);
    const valueOffset = readU16LE(body, RH.valueOffset.offset);
    if (valueOffset + valueLength > length) throw corrupt('resident value overflows the attribute', { ...where, offset });
    const value = body.slice(valueOffset, valueOffset + valueLength);
    return { type, name, flags, id, nonResident: false, value, startVcn: 0, lastVcn: 0, dataSize: value.length, allocatedSize: 0, initializedSize: value.length, compressionUnit: 0 };
  }
  if (length < MIN_NON_RESIDENT_LENGTH) throw corrupt('non-resident attribute header too short', { ...where, offset });
  // The compressed-size field (past the first 64 bytes) is not used.
  const runsOffset = readU16LE(body, NR.runsOffset.offset);
  const startVcn = readU64LE(body, NR.startVcn.offset);
  if (runsOffset < MIN_NON_RESIDENT_LENGTH || runsOffset > length) throw corrupt('run list offset outside the attribute', { ...where, offset });
  let runList: RunList;
  try {
    runList = decodeRunList(body, runsOffset, length, startVcn, clusterCount);
  } catch (error) {
    if (error instanceof DiskkitError) throw new DiskkitError(error.code, error.message, { context: { ...error.context, ...where } });
    throw error;
  }
  return {
    type, name, flags, id, nonResident: true, startVcn, lastVcn: readU64LE(body, NR.lastVcn.offset), runList,
    dataSize: readU64LE(body, NR.dataSize.offset), allocatedSize: readU64LE(body, NR.allocatedSize.offset),
    initializedSize: readU64LE(body, NR.initializedSize.offset), compressionUnit: readU16LE(body, NR.compressionUnit.offset),
  };
}

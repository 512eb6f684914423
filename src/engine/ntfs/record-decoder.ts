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
import { decodeDataRuns, type DataRun } from './data-runs.js';

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
  runs?: DataRun[];
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
  const header = MftRecordHeader.decode(record);
  if (header.signature !== SIGNATURE_FILE) throw corrupt('MFT record has no FILE signature', where);
  // A caller that applied the fixups already (record-reader.ts, per cached block) passes their status.
  const fixup = fixupStatus ?? applyFixups(record, 0, record.length, header.usaOffset, header.usaCount);
  if (fixup === FixupStatus.BAD_ARRAY) throw corrupt('MFT record fixup array does not fit the record', where);
  const end = Math.min(header.bytesInUse, record.length);
  const attributes: DecodedAttribute[] = [];
  let p = header.firstAttributeOffset;
  while (p + 4 <= end) {
    const type = record[p]! | (record[p + 1]! << 8) | (record[p + 2]! << 16) | (record[p + 3]! << 24);
    if (type >>> 0 === AttributeType.END) break;
    if (p + MIN_RESIDENT_LENGTH > end) throw corrupt('attribute header overflows the record', { ...where, offset: p });
    const h = AttributeHeader.decode(record, p);
    if (h.length < MIN_RESIDENT_LENGTH || p + h.length > end) throw corrupt('attribute overflows the record', { ...where, offset: p });
    const body = record.subarray(p, p + h.length);
    if (h.nameLength > 0 && h.nameOffset + 2 * h.nameLength > h.length) throw corrupt('attribute name overflows the attribute', { ...where, offset: p });
    const name = decodeUtf16Name(body, h.nameOffset, h.nameLength);
    if (h.nonResident === 0) {
      const r = ResidentHeader.decode(body);
      if (r.valueOffset + r.valueLength > h.length) throw corrupt('resident value overflows the attribute', { ...where, offset: p });
      const value = body.slice(r.valueOffset, r.valueOffset + r.valueLength);
      attributes.push({ type: h.type, name, flags: h.flags, id: h.attributeId, nonResident: false, value, startVcn: 0, lastVcn: 0, dataSize: value.length, allocatedSize: 0, initializedSize: value.length, compressionUnit: 0 });
    } else {
      if (h.length < MIN_NON_RESIDENT_LENGTH) throw corrupt('non-resident attribute header too short', { ...where, offset: p });
      const nr = NonResidentHeader.decode(new Uint8Array([...body.subarray(0, MIN_NON_RESIDENT_LENGTH), ...new Uint8Array(8)]));
      if (nr.runsOffset < MIN_NON_RESIDENT_LENGTH || nr.runsOffset > h.length) throw corrupt('run list offset outside the attribute', { ...where, offset: p });
      let runs: DataRun[];
      try {
        runs = decodeDataRuns(body, nr.runsOffset, h.length, nr.startVcn, clusterCount);
      } catch (error) {
        if (error instanceof DiskkitError) throw new DiskkitError(error.code, error.message, { context: { ...error.context, ...where } });
        throw error;
      }
      attributes.push({
        type: h.type, name, flags: h.flags, id: h.attributeId, nonResident: true, startVcn: nr.startVcn, lastVcn: nr.lastVcn, runs,
        dataSize: nr.dataSize, allocatedSize: nr.allocatedSize, initializedSize: nr.initializedSize, compressionUnit: nr.compressionUnit,
      });
    }
    p += h.length;
  }
  return {
    sequence: header.sequence,
    flags: header.flags,
    linkCount: header.linkCount,
    baseRecord: referenceRecord(record, 0x20),
    baseSequence: referenceSequence(record, 0x20),
    torn: fixup === FixupStatus.TORN,
    attributes,
  };
}

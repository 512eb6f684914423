/**
 * Finding the MFT in what the user named: a raw `$MFT` dump (records back to back
 * from record 0), or an NTFS volume (boot sector → record 0 of `$MFT` → its own data
 * runs, which may be fragmented and continue in extension records listed in its
 * $ATTRIBUTE_LIST: edge case 6). The result is a list of byte extents of the source
 * that hold the MFT in record order, plus what the scan needs to know.
 */
import type { BlockSource } from '../../io/block-source.js';
import { readBytes } from '../../io/block-source.js';
import type { Extent } from '../volume.js';
import { DiskkitError, ErrorCode, type DiskkitWarning } from '../errors.js';
import { decodeNtfsBootSector, isNtfsBootSector, MAX_RECORD_SIZE, MIN_RECORD_SIZE, type NtfsGeometry } from './boot-sector.js';
import { SIGNATURE_BAAD, SIGNATURE_FILE } from './mft-record.js';
import { decodeRecord, type DecodedAttribute } from './record-decoder.js';
import { AttributeType } from './attributes/attribute-header.js';
import { decodeAttributeList, MAX_ATTRIBUTE_LIST_BYTES } from './attributes/x20-attribute-list.js';
import { runObjects, type DataRun } from './data-runs.js';

export interface MftLayout {
  source: BlockSource;
  kind: 'dump' | 'volume';
  recordSize: number;
  recordCount: number;
  /** Byte ranges of the source holding records 0..recordCount-1, in order. */
  extents: Extent[];
  geometry: NtfsGeometry | null;
  /** Volume clusters for run-list checks; Infinity for a dump. */
  clusterCount: number;
  /** $MFT's $BITMAP (one bit per record), when read from a volume. */
  bitmap: Uint8Array | null;
  /** Problems with the source itself (trailing partial record...). */
  warnings: DiskkitWarning[];
}

/** A $BITMAP or $ATTRIBUTE_LIST bigger than this is hostile (it would describe > 8 billion records). */
const MAX_BITMAP_BYTES = 1 << 30;
/** Extension records of $MFT followed while collecting its runs. */
const MAX_MFT_EXTENSIONS = 256;

function badMft(source: BlockSource, message: string, context: Record<string, unknown> = {}): DiskkitError {
  return new DiskkitError(ErrorCode.BAD_MFT, message, { context: { image: source.name, ...context } });
}

/** Works out whether `source` is a dump or a volume and where its records are. */
export function locateMft(source: BlockSource): MftLayout {
  if (source.size < 512) throw badMft(source, `too small to hold an MFT or an NTFS volume (${source.size} bytes)`);
  const first = readBytes(source, 0, 512);
  if (isNtfsBootSector(first)) return locateInVolume(source, decodeNtfsBootSector(first));
  const signature = first.readUInt32LE(0);
  if (signature === SIGNATURE_FILE || signature === SIGNATURE_BAAD) return locateInDump(source, first);
  throw new DiskkitError(ErrorCode.UNKNOWN_FORMAT, 'neither an NTFS volume nor an $MFT dump (no NTFS boot sector, no FILE record at byte 0)', {
    context: { image: source.name },
    hint: 'for a partitioned disk image, pick the NTFS partition with --partition N',
  });
}

function locateInDump(source: BlockSource, first: Buffer): MftLayout {
  // Record 0 states its own allocated size (header offset 0x1C): 1024 or 4096 in practice.
  const claimed = first.readUInt32LE(0x1c);
  const warnings: DiskkitWarning[] = [];
  let recordSize = claimed;
  if (!(claimed >= MIN_RECORD_SIZE && claimed <= MAX_RECORD_SIZE && (claimed & (claimed - 1)) === 0)) {
    recordSize = 1024;
    warnings.push({ code: ErrorCode.BAD_RECORD, message: `record 0 claims a record size of ${claimed}; assuming 1024`, context: { record: 0 } });
  }
  const recordCount = Math.floor(source.size / recordSize);
  const tail = source.size - recordCount * recordSize;
  if (tail > 0) {
    warnings.push({ code: ErrorCode.TRUNCATED, message: `dump ends with a partial record (${tail} bytes after record ${recordCount - 1})`, context: { record: recordCount, bytes: tail } });
  }
  return {
    source,
    kind: 'dump',
    recordSize,
    recordCount,
    extents: recordCount > 0 ? [{ position: 0, length: recordCount * recordSize }] : [],
    geometry: null,
    clusterCount: Infinity,
    bitmap: null,
    warnings,
  };
}

/** Byte extents for clusters [0, bytes) of an attribute with these runs. */
function runsToExtents(source: BlockSource, runs: readonly DataRun[], clusterSize: number, bytes: number, what: string): Extent[] {
  const extents: Extent[] = [];
  let done = 0;
  let expectedVcn = 0;
  for (const run of runs) {
    if (done >= bytes) break;
    if (run.vcn !== expectedVcn) throw badMft(source, `${what} runs are not contiguous (VCN ${run.vcn}, expected ${expectedVcn})`);
    if (run.lcn === null) throw badMft(source, `${what} has a sparse run`, { cluster: run.vcn });
    const length = Math.min(run.length * clusterSize, bytes - done);
    const position = run.lcn * clusterSize;
    if (position + length > source.size) throw badMft(source, `${what} runs past the end of the image (cluster ${run.lcn})`, { cluster: run.lcn });
    const last = extents[extents.length - 1];
    if (last && last.position + last.length === position) last.length += length;
    else extents.push({ position, length });
    done += length;
    expectedVcn += run.length;
  }
  if (done < bytes) throw badMft(source, `${what} runs cover ${done} of its ${bytes} bytes`);
  return extents;
}

function readExtents(source: BlockSource, extents: readonly Extent[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const e of extents) {
    source.readAt(out, at, e.length, e.position);
    at += e.length;
  }
  return out;
}

function locateInVolume(source: BlockSource, geometry: NtfsGeometry): MftLayout {
  const { clusterSize, mftRecordSize: recordSize, clusterCount } = geometry;
  const warnings: DiskkitWarning[] = [];
  const mftStart = geometry.mftLcn * clusterSize;
  if (mftStart + recordSize > source.size) throw badMft(source, `$MFT at byte ${mftStart} lies past the end of the image (${source.size} bytes)`, { cluster: geometry.mftLcn });
  const record0 = decodeRecord(readBytes(source, mftStart, recordSize), clusterCount, 0);
  if (record0.torn) throw badMft(source, 'record 0 of $MFT is torn (fixup mismatch)', { record: 0 });

  // The unnamed $DATA pieces of $MFT, from record 0 and from any extension record.
  const pieces: DecodedAttribute[] = record0.attributes.filter((a) => a.type === AttributeType.DATA && a.name === '' && a.nonResident);
  const bitmapAttr = record0.attributes.find((a) => a.type === AttributeType.BITMAP && a.name === '');
  const listAttr = record0.attributes.find((a) => a.type === AttributeType.ATTRIBUTE_LIST);
  const first = pieces.find((a) => a.startVcn === 0);
  if (!first) throw badMft(source, '$MFT record 0 has no non-resident $DATA starting at VCN 0', { record: 0 });
  const dataSize = first.dataSize;
  if (dataSize < recordSize * 16) throw badMft(source, `$MFT $DATA is only ${dataSize} bytes`, { record: 0 });

  if (listAttr) {
    let listBytes: Uint8Array;
    if (listAttr.value) listBytes = listAttr.value;
    else {
      if (listAttr.dataSize > MAX_ATTRIBUTE_LIST_BYTES) throw badMft(source, `$MFT attribute list of ${listAttr.dataSize} bytes is implausible`, { record: 0 });
      listBytes = readExtents(source, runsToExtents(source, runObjects(listAttr.runList!), clusterSize, listAttr.dataSize, '$MFT $ATTRIBUTE_LIST'), listAttr.dataSize);
    }
    const seen = new Set<number>([0]);
    for (const item of decodeAttributeList(listBytes)) {
      if (item.type !== AttributeType.DATA || item.name !== '' || seen.has(item.record)) continue;
      if (seen.size > MAX_MFT_EXTENSIONS) throw badMft(source, 'too many $MFT extension records', { record: 0 });
      seen.add(item.record);
      // Locate the extension record through the runs known so far (it is always in an earlier part of the MFT).
      const known = collectRuns(pieces);
      const byteInMft = item.record * recordSize;
      const extents = runsToExtents(source, known, clusterSize, Math.min(byteInMft + recordSize, sumRunBytes(known, clusterSize)), '$MFT');
      const position = positionOf(extents, byteInMft);
      if (position === null) throw badMft(source, `$MFT extension record ${item.record} lies beyond the runs known so far`, { record: item.record });
      const ext = decodeRecord(readBytes(source, position, recordSize), clusterCount, item.record);
      if (ext.torn) throw badMft(source, `$MFT extension record ${item.record} is torn`, { record: item.record });
      for (const a of ext.attributes) if (a.type === AttributeType.DATA && a.name === '' && a.nonResident && a.startVcn !== 0) pieces.push(a);
    }
  }
  const runs = collectRuns(pieces);
  const recordCount = Math.floor(dataSize / recordSize);
  const extents = runsToExtents(source, runs, clusterSize, recordCount * recordSize, '$MFT');

  let bitmap: Uint8Array | null = null;
  if (bitmapAttr) {
    if (bitmapAttr.value) bitmap = bitmapAttr.value;
    else if (bitmapAttr.dataSize <= MAX_BITMAP_BYTES) {
      // One bit per record: bytes past the last record's describe nothing (ntfs-3g grows the
      // bitmap ahead of the MFT), so they are not read. A hostile size alone made every
      // command hold up to MAX_BITMAP_BYTES of it in memory.
      const bytes = Math.min(bitmapAttr.dataSize, Math.ceil(recordCount / 8));
      bitmap = readExtents(source, runsToExtents(source, runObjects(bitmapAttr.runList!), clusterSize, bytes, '$MFT $BITMAP'), bytes);
    }
  }
  if (!bitmap) warnings.push({ code: ErrorCode.BAD_MFT, message: '$MFT has no usable $BITMAP; every record is read', context: { record: 0 } });
  return { source, kind: 'volume', recordSize, recordCount, extents, geometry, clusterCount, bitmap, warnings };
}

function collectRuns(pieces: readonly DecodedAttribute[]): DataRun[] {
  return [...pieces].sort((a, b) => a.startVcn - b.startVcn).flatMap((p) => (p.runList ? runObjects(p.runList) : []));
}

function sumRunBytes(runs: readonly DataRun[], clusterSize: number): number {
  let expected = 0;
  let bytes = 0;
  for (const r of runs) {
    if (r.vcn !== expected || r.lcn === null) break;
    bytes += r.length * clusterSize;
    expected += r.length;
  }
  return bytes;
}

function positionOf(extents: readonly Extent[], logical: number): number | null {
  let at = 0;
  for (const e of extents) {
    if (logical < at + e.length) return e.position + (logical - at);
    at += e.length;
  }
  return null;
}

/**
 * The extents to read when only records whose $BITMAP bit is set are wanted
 * (`--skip-unused`): runs of in-use records, with short gaps read through rather
 * than split (a seek costs more than a few free records). Each extent carries its
 * first record number.
 */
export function inUseRanges(bitmap: Uint8Array, recordCount: number, minGap = 64): { first: number; count: number }[] {
  const ranges: { first: number; count: number }[] = [];
  let r = 0;
  const bit = (n: number): boolean => (n >>> 3) < bitmap.length && (bitmap[n >>> 3]! & (1 << (n & 7))) !== 0;
  while (r < recordCount) {
    while (r < recordCount && !bit(r)) r++;
    if (r >= recordCount) break;
    const first = r;
    let last = r;
    while (r < recordCount) {
      if (bit(r)) {
        last = r;
        r++;
      } else if (r - last > minGap) break;
      else r++;
    }
    ranges.push({ first, count: last - first + 1 });
  }
  return ranges;
}

/** Maps a range of records to byte extents of the source. */
export function recordRangeExtents(layout: MftLayout, first: number, count: number): Extent[] {
  const out: Extent[] = [];
  let logical = first * layout.recordSize;
  let remaining = count * layout.recordSize;
  let at = 0;
  for (const e of layout.extents) {
    if (remaining <= 0) break;
    if (logical < at + e.length) {
      const offset = logical - at;
      const length = Math.min(e.length - offset, remaining);
      out.push({ position: e.position + offset, length });
      logical += length;
      remaining -= length;
    }
    at += e.length;
  }
  return out;
}

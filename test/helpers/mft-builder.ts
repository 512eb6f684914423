/**
 * In-test builders for MFT records, reusing the engine's encoders (checked byte for byte
 * against real mkntfs/ntfs-3g records in test/mft-builder-golden.test.ts): a record is a
 * header, attributes, the end marker and fixups. Sample records in the tests are
 * named after their quirk and built here.
 */
import { MftRecordHeader, SIGNATURE_FILE, RecordFlag } from '../../src/engine/ntfs/mft-record.js';
import { encodeFixups } from '../../src/engine/ntfs/fixup.js';
import { encodeResidentAttribute, encodeNonResidentAttribute, AttributeType } from '../../src/engine/ntfs/attributes/attribute-header.js';
import { encodeStandardInformation } from '../../src/engine/ntfs/attributes/x10-standard-information.js';
import { encodeFileName, FileNamespace } from '../../src/engine/ntfs/attributes/x30-file-name.js';
import { encodeDataRuns, type DataRun } from '../../src/engine/ntfs/data-runs.js';
import { filetimeFromIso } from '../../src/engine/ntfs/filetime.js';

export const T0 = filetimeFromIso('2024-01-02T03:04:05.000Z', 1234567);
export const TIMES = { created: T0, modified: T0 + 10n, mftModified: T0 + 20n, accessed: T0 + 30n };

export interface RecordSpec {
  sequence?: number;
  flags?: number;
  links?: number;
  base?: { record: number; sequence: number };
  attributes: Uint8Array[];
  recordSize?: number;
}

export function buildRecord(spec: RecordSpec): Uint8Array {
  const size = spec.recordSize ?? 1024;
  const out = new Uint8Array(size);
  const usaOffset = 0x30;
  const usaCount = size / 512 + 1;
  const firstAttribute = (usaOffset + 2 * usaCount + 7) & ~7;
  let at = firstAttribute;
  for (const a of spec.attributes) {
    out.set(a, at);
    at += a.length;
  }
  out.set([0xff, 0xff, 0xff, 0xff], at);
  at += 8;
  MftRecordHeader.encode({
    signature: SIGNATURE_FILE,
    usaOffset,
    usaCount,
    sequence: spec.sequence ?? 1,
    linkCount: spec.links ?? 1,
    firstAttributeOffset: firstAttribute,
    flags: spec.flags ?? RecordFlag.IN_USE,
    bytesInUse: at,
    bytesAllocated: size,
    baseRecord: spec.base ? spec.base.record + spec.base.sequence * 0x1000000000000 : 0,
    nextAttributeId: spec.attributes.length,
  }, out);
  if (spec.base) {
    const dv = new DataView(out.buffer);
    dv.setUint32(0x20, spec.base.record % 0x100000000, true);
    dv.setUint16(0x24, Math.floor(spec.base.record / 0x100000000), true);
    dv.setUint16(0x26, spec.base.sequence, true);
  }
  encodeFixups(out, 0, size, usaOffset, 0x0001 + ((spec.sequence ?? 1) & 0xff));
  return out;
}

export const si = (fileAttributes = 0x20) => encodeResidentAttribute(AttributeType.STANDARD_INFORMATION, encodeStandardInformation(TIMES, fileAttributes));
export const fn = (parentRecord: number, name: string, options: { parentSequence?: number; namespace?: number } = {}) =>
  encodeResidentAttribute(AttributeType.FILE_NAME, encodeFileName({ parentRecord, parentSequence: options.parentSequence ?? 1, name, namespace: options.namespace ?? FileNamespace.WIN32, times: TIMES }), { indexed: true });
export const residentData = (bytes: number, name = '') => encodeResidentAttribute(AttributeType.DATA, new Uint8Array(bytes), { name });
export const nonResidentData = (size: number, runs: DataRun[], options: { name?: string; flags?: number; clusterSize?: number; startVcn?: number } = {}) => {
  const clusters = runs.reduce((s, r) => s + r.length, 0);
  return encodeNonResidentAttribute(AttributeType.DATA, encodeDataRuns(runs), {
    startVcn: options.startVcn ?? 0,
    lastVcn: (options.startVcn ?? 0) + clusters - 1,
    allocatedSize: clusters * (options.clusterSize ?? 4096),
    dataSize: size,
  }, { name: options.name ?? '', flags: options.flags ?? 0 });
};
export const indexRoot = () => encodeResidentAttribute(AttributeType.INDEX_ROOT, new Uint8Array(0x30), { name: '$I30' });

/** A directory record (root by default: record 5 is its own parent). */
export function dirRecord(name: string, parent: number, options: { sequence?: number; parentSequence?: number; inUse?: boolean } = {}): Uint8Array {
  return buildRecord({
    sequence: options.sequence ?? 1,
    flags: (options.inUse === false ? 0 : RecordFlag.IN_USE) | RecordFlag.DIRECTORY,
    attributes: [si(0x10), fn(parent, name, { parentSequence: options.parentSequence ?? 1 }), indexRoot()],
  });
}

export function fileRecord(name: string, parent: number, options: { sequence?: number; parentSequence?: number; inUse?: boolean; size?: number } = {}): Uint8Array {
  return buildRecord({
    sequence: options.sequence ?? 1,
    flags: options.inUse === false ? 0 : RecordFlag.IN_USE,
    attributes: [si(), fn(parent, name, { parentSequence: options.parentSequence ?? 1 }), residentData(options.size ?? 3)],
  });
}

/** An MFT dump of `count` records (all-zero unless given), with a root directory at record 5 and record 0 claiming the record size. */
export function buildDump(records: Map<number, Uint8Array>, count = 32, recordSize = 1024): Uint8Array {
  const out = new Uint8Array(count * recordSize);
  if (!records.has(0)) records.set(0, buildRecord({ recordSize, attributes: [si(6), fn(5, '$MFT'), residentData(0)] }));
  if (!records.has(5)) records.set(5, dirRecord('.', 5));
  for (const [n, r] of records) out.set(r, n * recordSize);
  return out;
}

/**
 * One file as the volume reader sees it: its base MFT record merged with the
 * extension records its $ATTRIBUTE_LIST names (edge case 5), and the decoded
 * attributes grouped into streams. Extension records must point back at the base
 * record; each is read once, and their number is capped, so a hostile list can
 * neither loop nor make the reader fetch the whole MFT.
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import { AttributeType, decodeUtf16Name } from './attributes/attribute-header.js';
import { decodeAttributeList, MAX_ATTRIBUTE_LIST_BYTES } from './attributes/x20-attribute-list.js';
import { FILE_NAME_FIXED_LENGTH, FileNamespace } from './attributes/x30-file-name.js';
import { FileAttribute } from './attributes/x10-standard-information.js';
import { RecordFlag } from './mft-record.js';
import { filetimeMsAt } from './filetime.js';
import type { DecodedAttribute } from './record-decoder.js';
import type { RecordReader } from './record-reader.js';
import { openStream, readWholeStream, type StreamSource, type VolumeGeometry } from './stream-reader.js';

/** Extension records followed for one file (a 3,000-run file needs a handful). */
const MAX_EXTENSION_RECORDS = 4096;

export interface FileName {
  parentRecord: number;
  parentSequence: number;
  name: string;
  namespace: number;
}

export interface FileRecord {
  record: number;
  sequence: number;
  inUse: boolean;
  isDirectory: boolean;
  /** $STANDARD_INFORMATION's DOS attribute bits (0 when missing). */
  fileAttributes: number;
  /** Times in ms since the epoch (NaN when missing): created, modified, accessed. */
  createdMs: number;
  modifiedMs: number;
  accessedMs: number;
  names: FileName[];
  attributes: DecodedAttribute[];
}

function bad(record: number, message: string): DiskkitError {
  return new DiskkitError(ErrorCode.BAD_RECORD, `MFT record ${record}: ${message}`, { context: { record } });
}

/** Reads record `n` and its extension records. */
export function loadFile(reader: RecordReader, geometry: VolumeGeometry, n: number): FileRecord {
  const base = reader.read(n);
  if (base.baseRecord !== 0) throw bad(n, `is an extension record of ${base.baseRecord}, not a file`);
  const attributes = [...base.attributes];
  const list = base.attributes.find((a) => a.type === AttributeType.ATTRIBUTE_LIST);
  if (list) {
    const bytes = readWholeStream(openStream(geometry, [list]), MAX_ATTRIBUTE_LIST_BYTES, 'attribute list');
    const seen = new Set<number>([n]);
    for (const item of decodeAttributeList(bytes)) {
      if (seen.has(item.record)) continue;
      if (seen.size > MAX_EXTENSION_RECORDS) throw bad(n, `lists more than ${MAX_EXTENSION_RECORDS} extension records`);
      seen.add(item.record);
      const ext = reader.read(item.record);
      if (ext.baseRecord !== n) throw bad(n, `attribute list names record ${item.record}, which belongs to record ${ext.baseRecord}`);
      attributes.push(...ext.attributes);
    }
  }
  const file: FileRecord = {
    record: n,
    sequence: base.sequence,
    inUse: (base.flags & RecordFlag.IN_USE) !== 0,
    isDirectory: (base.flags & RecordFlag.DIRECTORY) !== 0,
    fileAttributes: 0,
    createdMs: NaN,
    modifiedMs: NaN,
    accessedMs: NaN,
    names: [],
    attributes,
  };
  for (const a of attributes) {
    if (a.type === AttributeType.STANDARD_INFORMATION && a.value && a.value.length >= 0x24) {
      const dv = new DataView(a.value.buffer, a.value.byteOffset, a.value.byteLength);
      file.createdMs = filetimeMsAt(dv, 0x00);
      file.modifiedMs = filetimeMsAt(dv, 0x08);
      file.accessedMs = filetimeMsAt(dv, 0x18);
      file.fileAttributes = dv.getUint32(0x20, true);
    } else if (a.type === AttributeType.FILE_NAME && a.value) {
      const name = decodeFileName(a.value);
      if (name) file.names.push(name);
    }
  }
  return file;
}

/** A $FILE_NAME value (also the key of an $I30 index entry), or null when it overflows. */
export function decodeFileName(value: Uint8Array, at = 0, end = value.length): FileName | null {
  if (at + FILE_NAME_FIXED_LENGTH > end) return null;
  const units = value[at + 0x40]!;
  if (at + FILE_NAME_FIXED_LENGTH + 2 * units > end) return null;
  const lo = value[at]! | (value[at + 1]! << 8) | (value[at + 2]! << 16);
  const parentRecord = lo + value[at + 3]! * 0x1000000 + (value[at + 4]! | (value[at + 5]! << 8)) * 0x100000000;
  return {
    parentRecord,
    parentSequence: value[at + 6]! | (value[at + 7]! << 8),
    name: fileNameText(value, at + FILE_NAME_FIXED_LENGTH, units),
    namespace: value[at + 0x41]!,
  };
}

/**
 * `units` UTF-16LE code units at `at` as a string. A Buffer (index blocks are read into
 * Buffers) decodes in place; a long name in a plain Uint8Array through a Buffer view.
 */
export function fileNameText(value: Uint8Array, at: number, units: number): string {
  // ucs2Slice is what toString('utf16le', ...) ends in, without its argument handling (a million names in ls -R).
  if (value instanceof Buffer) return (value as Buffer & { ucs2Slice(start: number, end: number): string }).ucs2Slice(at, at + 2 * units);
  return units > 16 ? Buffer.from(value.buffer, value.byteOffset + at, 2 * units).toString('utf16le') : decodeUtf16Name(value, at, units);
}

/** The names a listing shows: every link, without DOS-only duplicates (edge case 8). */
export function visibleNames(file: FileRecord): FileName[] {
  const long = file.names.filter((n) => n.namespace !== FileNamespace.DOS);
  return long.length > 0 ? long : file.names;
}

/** Named and unnamed $DATA streams: name → its pieces. */
export function dataStreams(file: FileRecord): Map<string, DecodedAttribute[]> {
  const streams = new Map<string, DecodedAttribute[]>();
  for (const a of file.attributes) {
    if (a.type !== AttributeType.DATA) continue;
    const pieces = streams.get(a.name);
    if (pieces) pieces.push(a);
    else streams.set(a.name, [a]);
  }
  return streams;
}

/** The size a stream's first piece states (resident: its value length). */
export function streamSize(pieces: readonly DecodedAttribute[]): number {
  const first = pieces.find((p) => !p.nonResident || p.startVcn === 0);
  return first ? first.dataSize : 0;
}

export function openDataStream(geometry: VolumeGeometry, file: FileRecord, stream: string): StreamSource | null {
  const pieces = dataStreams(file).get(stream);
  return pieces ? openStream(geometry, pieces) : null;
}

const ATTRIBUTE_BITS_SHOWN = FileAttribute.READONLY | FileAttribute.HIDDEN | FileAttribute.SYSTEM | FileAttribute.ARCHIVE |
  FileAttribute.COMPRESSED | FileAttribute.SPARSE | FileAttribute.ENCRYPTED | FileAttribute.REPARSE;
/** One frozen list per combination of bits, shared (ls caches its output text per list). */
const attributeLists = new Map<number, string[]>();

/** Attribute names as EntryInfo lists them, from the DOS attribute bits: a shared, frozen list. */
export function attributeNames(file: FileRecord): string[] {
  return attributeNamesOf(file.fileAttributes, file.isDirectory);
}

/** attributeNames from the bits and the directory flag. */
export function attributeNamesOf(bits: number, isDirectory: boolean): string[] {
  const key = (bits & ATTRIBUTE_BITS_SHOWN) | (isDirectory ? 0x10000 : 0);
  let list = attributeLists.get(key);
  if (list) return list;
  const out: string[] = [];
  if (bits & FileAttribute.READONLY) out.push('readonly');
  if (bits & FileAttribute.HIDDEN) out.push('hidden');
  if (bits & FileAttribute.SYSTEM) out.push('system');
  if (isDirectory) out.push('dir');
  if (bits & FileAttribute.ARCHIVE) out.push('archive');
  if (bits & FileAttribute.COMPRESSED) out.push('compressed');
  if (bits & FileAttribute.SPARSE) out.push('sparse');
  if (bits & FileAttribute.ENCRYPTED) out.push('encrypted');
  if (bits & FileAttribute.REPARSE) out.push('reparse');
  list = Object.freeze(out) as string[];
  attributeLists.set(key, list);
  return list;
}

/**
 * Volume.walk for FAT: lists directories straight from their slot bytes, without a
 * DirRecord, DirEntry or EntryInfo per entry (a recursive listing of a million
 * entries is otherwise mostly allocation and garbage collection).
 *
 * The fast scanner below accepts only what it can decode exactly as parseDirectory
 * does without a warning: live 8.3 entries and complete, in-sequence long names whose
 * checksum matches (fatgen103 section 7). Anything else in a directory (a broken or
 * orphaned long name, a deleted entry asked for, a long name before a dot entry)
 * sends that one directory through parseDirectory, so names, warnings and recovered
 * deleted entries stay exactly those of Volume.list.
 */
import type { WalkEntry, WalkOptions, WalkVisitor } from '../volume.js';
import { Attr, DELETED_MARK, DIR_ENTRY_SIZE, END_OF_DIRECTORY, NT_LOWER_BASE, NT_LOWER_EXT, attributeNames, decodeDosDateTimeMs, shortNameText } from './dir-entry.js';
import { LAST_LONG_ENTRY, MAX_LONG_NAME_SLOTS, UNITS_PER_SLOT } from './long-name.js';
import type { DirectoryRef, FatVolumeState as FatVolume } from './volume-state.js';
import { joinPath } from '../volume-path.js';

/** The live entries of one directory as the fast scanner found them (arrays reused between directories). */
export class FastListing {
  count = 0;
  readonly names: string[] = [];
  readonly shortNames: string[] = [];
  /** Byte offset of each entry's short slot. */
  readonly offsets: number[] = [];
  readonly dots: boolean[] = [];
}

/** Byte offsets of the 13 UTF-16 units within a long-name slot (fatgen103 section 7). */
const UNIT_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
const MAX_UNITS = MAX_LONG_NAME_SLOTS * UNITS_PER_SLOT;
/** Scratch space for names: one byte per character (ASCII) or two (UTF-16LE). */
const latin1Scratch = Buffer.alloc(MAX_UNITS);
const utf16Scratch = Buffer.alloc(MAX_UNITS * 2);

/**
 * Scans `bytes` into `out`. Returns false, leaving `out` unusable, when the directory
 * holds anything the caller must hand to parseDirectory instead (see the file comment).
 */
export function scanDirectoryFast(bytes: Uint8Array, dotEntries: boolean, out: FastListing): boolean {
  const end = bytes.length - (bytes.length % DIR_ENTRY_SIZE);
  let count = 0;
  // The pending long name: slots seen, next expected sequence number, checksum, offset of its first slot.
  let slots = 0;
  let expected = 0;
  let checksum = 0;
  let firstSlot = 0;
  for (let at = 0; at < end; at += DIR_ENTRY_SIZE) {
    const first = bytes[at]!;
    if (first === END_OF_DIRECTORY) {
      if (slots > 0) return false;
      break;
    }
    const attributes = bytes[at + 11]!;
    if ((attributes & 0x3f) === Attr.LONG_NAME) {
      if (first === DELETED_MARK) {
        if (slots > 0) return false;
        continue;
      }
      const sequence = first & 0x1f;
      if (first & LAST_LONG_ENTRY) {
        if (slots > 0 || sequence < 1 || sequence > MAX_LONG_NAME_SLOTS) return false;
        slots = 1;
        expected = sequence - 1;
        checksum = bytes[at + 13]!;
        firstSlot = at;
      } else {
        if (slots === 0 || sequence !== expected || bytes[at + 13] !== checksum) return false;
        slots++;
        expected--;
      }
      continue;
    }
    if (first === DELETED_MARK || (attributes & Attr.VOLUME_ID && !(attributes & Attr.DIRECTORY))) {
      if (slots > 0) return false;
      continue;
    }
    const dot = isDotAt(bytes, at);
    const shortName = shortNameAt(bytes, at);
    let name = shortName;
    if (slots > 0) {
      if (expected !== 0 || dot || shortChecksumAt(bytes, at) !== checksum) return false;
      const long = longNameAt(bytes, firstSlot, slots);
      if (long === null) return false;
      name = long;
      slots = 0;
    }
    if (dot && !dotEntries) continue;
    out.names[count] = name;
    out.shortNames[count] = shortName;
    out.offsets[count] = at;
    out.dots[count] = dot;
    count++;
  }
  out.count = count;
  return true;
}

function isDotAt(b: Uint8Array, at: number): boolean {
  if (b[at] !== 0x2e) return false;
  const start = b[at + 1] === 0x2e ? 2 : 1;
  for (let i = start; i < 11; i++) if (b[at + i] !== 0x20) return false;
  return true;
}

/** fatgen103 section 7: the checksum of the 11 name bytes at `at`. */
function shortChecksumAt(b: Uint8Array, at: number): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >>> 1)) + b[at + i]!) & 0xff;
  return sum;
}

/** shortNameText for the entry at `at`: ASCII names are built in place, others go through shortNameText. */
function shortNameAt(b: Uint8Array, at: number): string {
  const flags = b[at + 12]!;
  const lowerBase = (flags & NT_LOWER_BASE) !== 0;
  const lowerExt = (flags & NT_LOWER_EXT) !== 0;
  let n = 0;
  let baseEnd = 8;
  while (baseEnd > 0 && b[at + baseEnd - 1] === 0x20) baseEnd--;
  for (let i = 0; i < baseEnd; i++) {
    let c = b[at + i]!;
    if (c >= 0x80 || (i === 0 && (c === 0x05 || c === DELETED_MARK))) return shortNameText(b.subarray(at, at + 11), flags);
    if (lowerBase && c >= 0x41 && c <= 0x5a) c += 0x20;
    latin1Scratch[n++] = c;
  }
  let extEnd = 11;
  while (extEnd > 8 && b[at + extEnd - 1] === 0x20) extEnd--;
  if (extEnd > 8) {
    latin1Scratch[n++] = 0x2e;
    for (let i = 8; i < extEnd; i++) {
      let c = b[at + i]!;
      if (c >= 0x80) return shortNameText(b.subarray(at, at + 11), flags);
      if (lowerExt && c >= 0x41 && c <= 0x5a) c += 0x20;
      latin1Scratch[n++] = c;
    }
  }
  return latin1Scratch.toString('latin1', 0, n);
}

/**
 * The long name held by `count` slots starting at `firstAt` (stored last part first):
 * units up to the first 0x0000, trailing 0xFFFF padding dropped, as LongNameAssembler
 * does. Null when nothing is left. Unpaired surrogates are kept, as String.fromCharCode keeps them.
 */
function longNameAt(b: Uint8Array, firstAt: number, count: number): string | null {
  let length = 0;
  outer: for (let part = 0; part < count; part++) {
    const at = firstAt + (count - 1 - part) * DIR_ENTRY_SIZE;
    for (let k = 0; k < UNITS_PER_SLOT; k++) {
      const o = at + UNIT_OFFSETS[k]!;
      const lo = b[o]!;
      const hi = b[o + 1]!;
      if (lo === 0 && hi === 0) break outer;
      utf16Scratch[2 * length] = lo;
      utf16Scratch[2 * length + 1] = hi;
      length++;
    }
  }
  while (length > 0 && utf16Scratch[2 * length - 2] === 0xff && utf16Scratch[2 * length - 1] === 0xff) length--;
  if (length === 0) return null;
  for (let i = 0; i < length; i++) {
    const lo = utf16Scratch[2 * i]!;
    if (utf16Scratch[2 * i + 1] !== 0 || lo >= 0x80) return utf16Scratch.toString('utf16le', 0, 2 * length);
    latin1Scratch[i] = lo;
  }
  return latin1Scratch.toString('latin1', 0, length);
}

interface PendingDirectory {
  cluster: number;
  path: string;
  parent: DirectoryRef;
  depth: number;
}

/** The creation time with its 10 ms units, as FatEntryInfo.ctime decodes it. */
function creationMs(date: number, time: number, tenths: number): number {
  return decodeDosDateTimeMs(date, time) + (tenths <= 199 ? tenths * 10 : 0);
}

/** Walks from `start` (already resolved), reporting to `visitor` in ls -R order. */
export function walkFatDirectories(volume: FatVolume, start: DirectoryRef, options: WalkOptions, visitor: WalkVisitor): void {
  const fat32 = volume.boot.fatType === 'fat32';
  const dotEntries = options.dotEntries === true;
  const deleted = options.deleted === true;
  const recursive = options.recursive === true;
  const entry: WalkEntry = { parent: '/', name: '', shortName: null, type: 'file', size: 0, mtimeMs: Number.NaN, ctimeMs: Number.NaN, atimeMs: Number.NaN, attributes: [], deleted: false, dot: false };
  const listing = new FastListing();
  const stack: PendingDirectory[] = [];
  let children: PendingDirectory[] = [];

  const visit = (dir: DirectoryRef, depth: number): void => {
    children = [];
    let bytes: Uint8Array;
    try {
      volume.claimDirectory(dir);
      bytes = volume.readDirectoryBytes(dir);
    } catch (error) {
      visitor.error(dir.path, depth, error);
      return;
    }
    const path = dir.path;
    entry.parent = path;
    if (!deleted && scanDirectoryFast(bytes, dotEntries, listing)) {
      visitor.directory(path, depth);
      const { names, shortNames, offsets, dots } = listing;
      for (let i = 0; i < listing.count; i++) {
        const o = offsets[i]!;
        const attributes = bytes[o + 11]!;
        const isDirectory = (attributes & Attr.DIRECTORY) !== 0;
        entry.parent = path;
        entry.name = names[i]!;
        entry.shortName = shortNames[i]!;
        entry.type = isDirectory ? 'dir' : 'file';
        entry.size = isDirectory ? 0 : (bytes[o + 28]! | (bytes[o + 29]! << 8) | (bytes[o + 30]! << 16)) + bytes[o + 31]! * 0x1000000;
        entry.mtimeMs = decodeDosDateTimeMs(bytes[o + 24]! | (bytes[o + 25]! << 8), bytes[o + 22]! | (bytes[o + 23]! << 8));
        entry.ctimeMs = creationMs(bytes[o + 16]! | (bytes[o + 17]! << 8), bytes[o + 14]! | (bytes[o + 15]! << 8), bytes[o + 13]!);
        entry.atimeMs = decodeDosDateTimeMs(bytes[o + 18]! | (bytes[o + 19]! << 8), 0);
        entry.attributes = attributeNames(attributes);
        entry.deleted = false;
        entry.dot = dots[i]!;
        if (visitor.entry(entry) && recursive && isDirectory && !entry.dot) {
          const high = fat32 ? bytes[o + 20]! | (bytes[o + 21]! << 8) : 0;
          const cluster = high * 0x10000 + (bytes[o + 26]! | (bytes[o + 27]! << 8));
          children.push({ cluster, path: joinPath(path, names[i]!), parent: dir, depth: depth + 1 });
        }
      }
    } else {
      const parsed = volume.readDirectory(dir, { deleted });
      visitor.directory(path, depth);
      for (const record of parsed.records) {
        if (record.isDot && !dotEntries) continue;
        const e = record.entry;
        entry.parent = path;
        entry.name = record.name;
        entry.shortName = record.shortName;
        entry.type = record.isDirectory ? 'dir' : 'file';
        entry.size = record.isDirectory ? 0 : e.fileSize;
        entry.mtimeMs = decodeDosDateTimeMs(e.writeDate, e.writeTime);
        entry.ctimeMs = creationMs(e.createDate, e.createTime, e.createTimeTenth);
        entry.atimeMs = decodeDosDateTimeMs(e.accessDate, 0);
        entry.attributes = attributeNames(e.attributes);
        entry.deleted = record.deleted;
        entry.dot = record.isDot;
        if (visitor.entry(entry) && recursive && record.isDirectory && !record.isDot && !record.deleted) {
          children.push({ cluster: e.startCluster, path: joinPath(path, record.name), parent: dir, depth: depth + 1 });
        }
      }
    }
  };

  visit(start, 0);
  for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  while (stack.length > 0) {
    const next = stack.pop()!;
    let dir: DirectoryRef;
    try {
      dir = volume.childRefAt(next.cluster, next.path, next.parent);
    } catch (error) {
      visitor.error(next.path, next.depth, error);
      continue;
    }
    visit(dir, next.depth);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
}



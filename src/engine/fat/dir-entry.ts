/**
 * The 32-byte FAT directory entry (fatgen103 section 6, "FAT Directory Structure"):
 * 8.3 name, attributes, the NT case byte, timestamps, start cluster and size.
 * Declared once as data; the fast decoder below reads the same offsets directly,
 * because a directory scan decodes millions of entries and must not allocate per field.
 */
import { defineStruct } from '../struct.js';
import type { FatType } from './boot-sector.js';

export const DIR_ENTRY_SIZE = 32;

export const DirEntryStruct = defineStruct('DirEntry', DIR_ENTRY_SIZE, {
  name: { offset: 0, type: { bytes: 11 } },
  attributes: { offset: 11, type: 'u8' },
  /** "NTRes": Windows NT keeps the lower-case flags here (bits 3 and 4). */
  ntFlags: { offset: 12, type: 'u8' },
  /** Creation time, count of 10 ms units 0..199 (fatgen103: CrtTimeTenth). */
  createTimeTenth: { offset: 13, type: 'u8' },
  createTime: { offset: 14, type: 'u16' },
  createDate: { offset: 16, type: 'u16' },
  accessDate: { offset: 18, type: 'u16' },
  /** High word of the start cluster: FAT32 only, 0 on FAT12/16. */
  startClusterHigh: { offset: 20, type: 'u16' },
  writeTime: { offset: 22, type: 'u16' },
  writeDate: { offset: 24, type: 'u16' },
  startClusterLow: { offset: 26, type: 'u16' },
  fileSize: { offset: 28, type: 'u32' },
});

/** Attribute bits (fatgen103 section 6). */
export const Attr = {
  READ_ONLY: 0x01,
  HIDDEN: 0x02,
  SYSTEM: 0x04,
  VOLUME_ID: 0x08,
  DIRECTORY: 0x10,
  ARCHIVE: 0x20,
  /** READ_ONLY|HIDDEN|SYSTEM|VOLUME_ID: the entry is a VFAT long-name slot. */
  LONG_NAME: 0x0f,
} as const;

const ATTRIBUTE_NAMES: [number, string][] = [
  [Attr.READ_ONLY, 'readonly'],
  [Attr.HIDDEN, 'hidden'],
  [Attr.SYSTEM, 'system'],
  [Attr.VOLUME_ID, 'volume'],
  [Attr.DIRECTORY, 'dir'],
  [Attr.ARCHIVE, 'archive'],
];

/** One frozen name list per attribute byte: listings share them instead of building one per entry. */
const ATTRIBUTE_NAME_LISTS: readonly string[][] = Array.from({ length: 256 }, (_, attributes) =>
  Object.freeze(ATTRIBUTE_NAMES.filter(([bit]) => attributes & bit).map(([, name]) => name)) as string[],
);

/** Attribute names in a fixed order, e.g. ['hidden', 'archive'] (a shared, frozen array). */
export function attributeNames(attributes: number): string[] {
  return ATTRIBUTE_NAME_LISTS[attributes & 0xff]!;
}

/** First name byte: 0x00 = this and all later entries are free; 0xE5 = deleted (fatgen103 section 6.1). */
export const END_OF_DIRECTORY = 0x00;
export const DELETED_MARK = 0xe5;
/** A real leading 0xE5 (KANJI lead byte) is stored as 0x05. */
export const KANJI_E5_ESCAPE = 0x05;

/** NT lower-case flags (byte 12): display base / extension in lower case. */
export const NT_LOWER_BASE = 0x08;
export const NT_LOWER_EXT = 0x10;

/**
 * The high half of code page 437, which DOS and mtools use by default for short
 * names. Bytes below 0x80 are ASCII.
 */
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';
if ([...CP437_HIGH].length !== 128) throw new Error('CP437 table must have 128 characters');
const CP437_CHARS = [...CP437_HIGH];
const CP437_REVERSE = new Map(CP437_CHARS.map((c, i) => [c, 0x80 + i]));

export function decodeOemChar(byte: number): string {
  return byte < 0x80 ? String.fromCharCode(byte) : CP437_CHARS[byte - 0x80]!;
}

/** The OEM byte for a character, or null when CP437 has none. */
export function encodeOemChar(c: string): number | null {
  const code = c.charCodeAt(0);
  if (c.length === 1 && code < 0x80) return code;
  return CP437_REVERSE.get(c) ?? null;
}

/**
 * Epoch milliseconds of DOS date/time pairs already decoded. Building a Date from
 * local-time fields costs a time-zone lookup; trees share few distinct timestamps.
 */
const dosTimeCache = new Map<number, number>();
const DOS_TIME_CACHE_LIMIT = 65536;

/** A DOS date/time pair as a local-time Date (FAT stores wall-clock time, no zone); null when unset or invalid. */
export function decodeDosDateTime(date: number, time: number, tenths = 0): Date | null {
  if (date === 0) return null;
  const extra = tenths <= 199 ? tenths * 10 : 0;
  const key = date * 0x10000 + time;
  const cached = dosTimeCache.get(key);
  if (cached !== undefined) return Number.isNaN(cached) ? null : new Date(cached + extra);
  const decoded = decodeDosDateTimeUncached(date, time);
  if (dosTimeCache.size >= DOS_TIME_CACHE_LIMIT) dosTimeCache.clear();
  dosTimeCache.set(key, decoded === null ? Number.NaN : decoded.getTime());
  return decoded === null ? null : new Date(decoded.getTime() + extra);
}

/**
 * The same decoding as epoch milliseconds (NaN when unset or invalid), for listings
 * that must not build a Date per entry. Shares decodeDosDateTime's cache.
 */
export function decodeDosDateTimeMs(date: number, time: number): number {
  if (date === 0) return Number.NaN;
  const key = date * 0x10000 + time;
  const cached = dosTimeCache.get(key);
  if (cached !== undefined) return cached;
  const decoded = decodeDosDateTimeUncached(date, time);
  if (dosTimeCache.size >= DOS_TIME_CACHE_LIMIT) dosTimeCache.clear();
  const ms = decoded === null ? Number.NaN : decoded.getTime();
  dosTimeCache.set(key, ms);
  return ms;
}

function decodeDosDateTimeUncached(date: number, time: number): Date | null {
  const year = 1980 + (date >>> 9);
  const month = (date >>> 5) & 0x0f;
  const day = date & 0x1f;
  if (month < 1 || month > 12 || day < 1) return null;
  const hours = time >>> 11;
  const minutes = (time >>> 5) & 0x3f;
  const seconds = (time & 0x1f) * 2;
  if (hours > 23 || minutes > 59 || seconds > 59) return null;
  const d = new Date(year, month - 1, day, hours, minutes, seconds);
  if (d.getDate() !== day) return null; // e.g. February 31st
  return d;
}

/**
 * Encodes a Date as DOS date, time and 10 ms tenths; clamped to 1980..2107. FAT stores
 * wall-clock time: local time by default, UTC when `utc` (reproducible images must not
 * depend on the builder's time zone).
 */
export function encodeDosDateTime(value: Date, utc = false): { date: number; time: number; tenths: number } {
  let year = utc ? value.getUTCFullYear() : value.getFullYear();
  if (year < 1980) return { date: (0 << 9) | (1 << 5) | 1, time: 0, tenths: 0 };
  if (year > 2107) year = 2107;
  const month = (utc ? value.getUTCMonth() : value.getMonth()) + 1;
  const day = utc ? value.getUTCDate() : value.getDate();
  const hours = utc ? value.getUTCHours() : value.getHours();
  const minutes = utc ? value.getUTCMinutes() : value.getMinutes();
  const seconds = utc ? value.getUTCSeconds() : value.getSeconds();
  const date = ((year - 1980) << 9) | (month << 5) | day;
  const time = (hours << 11) | (minutes << 5) | (seconds >>> 1);
  const tenths = (seconds & 1) * 100 + Math.floor((utc ? value.getUTCMilliseconds() : value.getMilliseconds()) / 10);
  return { date, time, tenths };
}

/** What a 32-byte slot holds. */
export type SlotKind = 'end' | 'deleted' | 'long-name' | 'volume-label' | 'entry';

/** A decoded short (8.3) directory entry. */
export interface DirEntry {
  /** The 11 raw name bytes as stored (first byte 0xE5 for deleted, 0x05 for a real 0xE5). */
  rawName: Uint8Array;
  attributes: number;
  ntFlags: number;
  createTimeTenth: number;
  createTime: number;
  createDate: number;
  accessDate: number;
  writeTime: number;
  writeDate: number;
  /** Start cluster; the high word is only used on FAT32. */
  startCluster: number;
  fileSize: number;
}

const F = DirEntryStruct.fields;

/** Classifies the slot at `offset` without decoding it. */
export function slotKind(buf: Uint8Array, offset: number): SlotKind {
  const first = buf[offset]!;
  if (first === END_OF_DIRECTORY) return 'end';
  const attributes = buf[offset + F.attributes.offset]!;
  if ((attributes & 0x3f) === Attr.LONG_NAME) return first === DELETED_MARK ? 'deleted' : 'long-name';
  if (first === DELETED_MARK) return 'deleted';
  if (attributes & Attr.VOLUME_ID && !(attributes & Attr.DIRECTORY)) return 'volume-label';
  return 'entry';
}

function u16(buf: Uint8Array, at: number): number {
  return buf[at]! | (buf[at + 1]! << 8);
}

/** Decodes the short entry at `offset` of `buf` (which must hold 32 bytes there). */
export function decodeDirEntry(buf: Uint8Array, offset: number, fatType: FatType): DirEntry {
  if (offset < 0 || offset + DIR_ENTRY_SIZE > buf.length) return DirEntryStruct.decode(buf, offset) as never; // throws E_TRUNCATED
  const high = fatType === 'fat32' ? u16(buf, offset + F.startClusterHigh.offset) : 0;
  return {
    // A view, not a copy: a copy per entry is a new ArrayBuffer, and a million of them dominate GC.
    rawName: buf.subarray(offset, offset + 11),
    attributes: buf[offset + F.attributes.offset]!,
    ntFlags: buf[offset + F.ntFlags.offset]!,
    createTimeTenth: buf[offset + F.createTimeTenth.offset]!,
    createTime: u16(buf, offset + F.createTime.offset),
    createDate: u16(buf, offset + F.createDate.offset),
    accessDate: u16(buf, offset + F.accessDate.offset),
    writeTime: u16(buf, offset + F.writeTime.offset),
    writeDate: u16(buf, offset + F.writeDate.offset),
    startCluster: high * 0x10000 + u16(buf, offset + F.startClusterLow.offset),
    fileSize: (buf[offset + 28]! | (buf[offset + 29]! << 8) | (buf[offset + 30]! << 16)) + buf[offset + 31]! * 0x1000000,
  };
}

/**
 * Encodes `entry` into the 32 bytes at `offset` of `buf`: the DirEntryStruct fields,
 * written directly (as decodeDirEntry reads them), since a tree copy encodes one per file.
 */
export function encodeDirEntry(entry: DirEntry, buf: Uint8Array, offset: number, fatType: FatType): void {
  if (offset < 0 || offset + DIR_ENTRY_SIZE > buf.length) throw new RangeError(`directory entry at ${offset} runs past ${buf.length} bytes`);
  if (entry.rawName.length !== 11) throw new Error(`DirEntry.name needs 11 bytes, got ${entry.rawName.length}`);
  buf.set(entry.rawName, offset);
  buf[offset + F.attributes.offset] = entry.attributes;
  buf[offset + F.ntFlags.offset] = entry.ntFlags;
  buf[offset + F.createTimeTenth.offset] = entry.createTimeTenth;
  putU16(buf, offset + F.createTime.offset, entry.createTime);
  putU16(buf, offset + F.createDate.offset, entry.createDate);
  putU16(buf, offset + F.accessDate.offset, entry.accessDate);
  putU16(buf, offset + F.startClusterHigh.offset, fatType === 'fat32' ? Math.floor(entry.startCluster / 0x10000) : 0);
  putU16(buf, offset + F.writeTime.offset, entry.writeTime);
  putU16(buf, offset + F.writeDate.offset, entry.writeDate);
  putU16(buf, offset + F.startClusterLow.offset, entry.startCluster & 0xffff);
  const size = entry.fileSize;
  buf[offset + 28] = size & 0xff;
  buf[offset + 29] = (size >>> 8) & 0xff;
  buf[offset + 30] = (size >>> 16) & 0xff;
  buf[offset + 31] = (size >>> 24) & 0xff;
}

function putU16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value & 0xff;
  buf[at + 1] = (value >>> 8) & 0xff;
}

/** True for the "." and ".." entries (fatgen103 section 6.2). */
export function isDotEntry(rawName: Uint8Array): boolean {
  if (rawName[0] !== 0x2e) return false;
  const start = rawName[1] === 0x2e ? 2 : 1;
  for (let i = start; i < 11; i++) if (rawName[i] !== 0x20) return false;
  return true;
}

/**
 * The short name as text: base and extension trimmed of padding, joined by '.',
 * 0x05 restored to 0xE5, lower-cased where the NT flags say so (when `applyCase`).
 * A deleted entry's lost first byte is shown as '?', as undelete tools do.
 */
export function shortNameText(rawName: Uint8Array, ntFlags: number, applyCase = true): string {
  let base = '';
  let baseEnd = 8;
  while (baseEnd > 0 && rawName[baseEnd - 1] === 0x20) baseEnd--;
  for (let i = 0; i < baseEnd; i++) {
    let b = rawName[i]!;
    if (i === 0 && b === KANJI_E5_ESCAPE) b = 0xe5;
    else if (i === 0 && b === DELETED_MARK) {
      base += '?';
      continue;
    }
    base += decodeOemChar(b);
  }
  let ext = '';
  let extEnd = 11;
  while (extEnd > 8 && rawName[extEnd - 1] === 0x20) extEnd--;
  for (let i = 8; i < extEnd; i++) ext += decodeOemChar(rawName[i]!);
  if (applyCase) {
    if (ntFlags & NT_LOWER_BASE) base = base.toLowerCase();
    if (ntFlags & NT_LOWER_EXT) ext = ext.toLowerCase();
  }
  return ext ? `${base}.${ext}` : base;
}

/** The raw name as an 11-character string (base padded to 8, extension to 3), as short-name.ts keeps names. */
export function rawNameString(rawName: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 11; i++) s += decodeOemChar(i === 0 && rawName[0] === KANJI_E5_ESCAPE ? 0xe5 : rawName[i]!);
  return s;
}

/** The 11 raw bytes for an 11-character raw name (as generateShortName returns); a leading 0xE5 becomes 0x05. */
export function encodeRawName(raw: string): Uint8Array {
  const out = new Uint8Array(11);
  let ascii = raw.length === 11;
  // Generated names are ASCII: one byte per unit, without splitting the string into characters.
  for (let i = 0; ascii && i < 11; i++) {
    const code = raw.charCodeAt(i);
    if (code >= 0x80) ascii = false;
    else out[i] = code;
  }
  if (!ascii) {
    const chars = [...raw];
    if (chars.length !== 11) throw new Error(`raw short name must be 11 characters, got ${chars.length}`);
    chars.forEach((c, i) => {
      const b = encodeOemChar(c);
      out[i] = b ?? 0x5f;
    });
  }
  if (out[0] === DELETED_MARK) out[0] = KANJI_E5_ESCAPE;
  return out;
}

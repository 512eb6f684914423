/**
 * Directory contents (fatgen103 sections 6 and 7): a sequence of 32-byte slots,
 * each a short entry, a long-name slot, a deleted slot or the end marker. Parsing
 * keeps each entry's slot positions so that the write path can later rewrite or
 * delete an entry together with its long-name slots.
 */
import type { DiskkitWarning } from '../errors.js';
import type { FatType } from './boot-sector.js';
import {
  Attr,
  DELETED_MARK,
  DIR_ENTRY_SIZE,
  decodeDirEntry,
  decodeOemChar,
  isDotEntry,
  shortNameText,
  slotKind,
  type DirEntry,
} from './dir-entry.js';
import { LongNameAssembler, decodeLongNameSlot, shortNameChecksum, type LongNameProblem } from './long-name.js';

/** One directory entry as read: the decoded short entry plus its names and where it sits. */
export interface DirRecord {
  /** The name to show: the long name when there is a valid one, else the short name (NT case applied). */
  name: string;
  longName: string | null;
  /** Short name as text, NT lower-case flags applied ("readme.txt"). */
  shortName: string;
  entry: DirEntry;
  /** Slot index (32-byte units from the directory start) of the short entry. */
  slotIndex: number;
  /** Slot index of the first long-name slot, or `slotIndex` when there is none. */
  firstSlotIndex: number;
  deleted: boolean;
  isDirectory: boolean;
  /** "." or "..". */
  isDot: boolean;
}

export interface ParsedDirectory {
  records: DirRecord[];
  /** The volume-label entry's text (root directory only, by convention). */
  volumeLabel: string | null;
  /** Slot index of the end marker, or the slot count when the directory is full. */
  endSlot: number;
  slotCount: number;
  /** Broken long names and the like: reported, not thrown. */
  warnings: DiskkitWarning[];
}

export interface ParseOptions {
  /** Also return deleted entries (their first character shown as '?'). */
  deleted?: boolean;
  /** Path of the directory, for warnings. */
  path?: string;
}

const PROBLEM_TEXT: Record<LongNameProblem, string> = {
  'bad-checksum': 'long name checksum does not match its short entry',
  'bad-sequence': 'long name slots are out of sequence',
  'orphan-slots': 'long name slots without a short entry',
  'bad-name': 'long name is empty',
};

/** Parses the slots of a directory held in `bytes`. */
export function parseDirectory(bytes: Uint8Array, fatType: FatType, options: ParseOptions = {}): ParsedDirectory {
  const slotCount = Math.floor(bytes.length / DIR_ENTRY_SIZE);
  const records: DirRecord[] = [];
  const warnings: DiskkitWarning[] = [];
  const assembler = new LongNameAssembler();
  let volumeLabel: string | null = null;
  let endSlot = slotCount;
  const where = options.path ?? '?';
  const report = (problem: LongNameProblem | null, slot: number, name?: string): void => {
    if (!problem) return;
    warnings.push({
      code: 'W_LONG_NAME',
      message: `${PROBLEM_TEXT[problem]}${name !== undefined ? `; using short name ${JSON.stringify(name)}` : ''}`,
      context: { path: where, slot, problem },
    });
  };
  // Deleted long-name slots directly before a deleted short entry, for --deleted.
  let deletedSlots: number[] = [];

  for (let slot = 0; slot < slotCount; slot++) {
    const at = slot * DIR_ENTRY_SIZE;
    const kind = slotKind(bytes, at);
    if (kind === 'end') {
      endSlot = slot;
      report(assembler.abandon(), slot);
      break;
    }
    if (kind === 'long-name') {
      report(assembler.add(decodeLongNameSlot(bytes, at), slot), slot);
      deletedSlots = [];
      continue;
    }
    if (kind === 'deleted') {
      report(assembler.abandon(), slot);
      if ((bytes[at + 11]! & 0x3f) === Attr.LONG_NAME) {
        deletedSlots.push(slot);
        continue;
      }
      if (options.deleted) {
        const entry = decodeDirEntry(bytes, at, fatType);
        const shortName = shortNameText(entry.rawName, entry.ntFlags);
        const longName = recoverDeletedLongName(bytes, deletedSlots, entry.rawName);
        records.push({
          name: longName ?? shortName,
          longName,
          shortName,
          entry,
          slotIndex: slot,
          firstSlotIndex: longName !== null ? deletedSlots[0]! : slot,
          deleted: true,
          isDirectory: (entry.attributes & Attr.DIRECTORY) !== 0,
          isDot: false,
        });
      }
      deletedSlots = [];
      continue;
    }
    deletedSlots = [];
    if (kind === 'volume-label') {
      report(assembler.abandon(), slot);
      if (volumeLabel === null) volumeLabel = labelText(bytes.subarray(at, at + 11));
      continue;
    }
    const entry = decodeDirEntry(bytes, at, fatType);
    const shortName = shortNameText(entry.rawName, entry.ntFlags);
    const dot = isDotEntry(entry.rawName);
    let longName: string | null = null;
    let firstSlotIndex = slot;
    if (assembler.pending) {
      const result = assembler.finish(entry.rawName);
      if (result.name !== null && !dot) {
        longName = result.name;
        firstSlotIndex = result.firstSlotIndex;
      } else report(result.problem, slot, shortName);
    }
    records.push({
      name: longName ?? shortName,
      longName,
      shortName,
      entry,
      slotIndex: slot,
      firstSlotIndex,
      deleted: false,
      isDirectory: (entry.attributes & Attr.DIRECTORY) !== 0,
      isDot: dot,
    });
  }
  return { records, volumeLabel, endSlot, slotCount, warnings };
}

/** A volume label's 11 bytes as text, trailing spaces removed. */
export function labelText(raw: Uint8Array): string {
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x20 || raw[end - 1] === 0)) end--;
  let s = '';
  for (let i = 0; i < end; i++) s += decodeOemChar(raw[i]!);
  return s;
}

/**
 * Deleted long names: deletion overwrites each slot's sequence byte and the short
 * entry's first byte with 0xE5, so neither sequence nor checksum can be checked
 * directly. The checksum is tried against every possible first byte; the slots are
 * taken in on-disk order (last part first), as they were written.
 */
function recoverDeletedLongName(bytes: Uint8Array, slots: number[], rawName: Uint8Array): string | null {
  if (slots.length === 0 || slots.length > 20) return null;
  const checksum = bytes[slots[0]! * DIR_ENTRY_SIZE + 13]!;
  if (slots.some((s) => bytes[s * DIR_ENTRY_SIZE + 13] !== checksum)) return null;
  const candidate = Uint8Array.from(rawName);
  let matches = false;
  for (let b = 0x20; b < 0x100 && !matches; b++) {
    if (b === DELETED_MARK) continue;
    candidate[0] = b;
    matches = shortNameChecksum(candidate) === checksum;
  }
  if (!matches) return null;
  const units: number[] = [];
  for (let i = slots.length - 1; i >= 0; i--) units.push(...decodeLongNameSlot(bytes, slots[i]! * DIR_ENTRY_SIZE).units);
  let end = units.indexOf(0);
  if (end === -1) end = units.length;
  while (end > 0 && units[end - 1] === 0xffff) end--;
  return end > 0 ? String.fromCharCode(...units.slice(0, end)) : null;
}

const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * FAT compares names case-insensitively. Windows folds with its own upper-case
 * table, one character to one character (the Unicode simple mappings); mtools uses
 * towupper, also one to one. toUpperCase also applies the full mappings that turn
 * one character into several ('ß' into 'SS', 'ﬀ' into 'FF'), which would make 'ß'
 * and 'SS' one name: a character whose upper case is more than one character is
 * kept as it is.
 */
export function foldName(name: string): string {
  if (!NON_ASCII.test(name)) return name.toUpperCase();
  let out = '';
  for (const ch of name) {
    const up = ch.toUpperCase();
    out += up.length === ch.length ? up : ch;
  }
  return out;
}

/** Finds a live entry by long or short name, case-insensitively. Dot entries are not matched. */
export function findRecord(records: readonly DirRecord[], name: string): DirRecord | undefined {
  const folded = foldName(name);
  for (const r of records) {
    if (r.deleted || r.isDot) continue;
    if ((r.longName !== null && foldName(r.longName) === folded) || foldName(r.shortName) === folded) return r;
  }
  return undefined;
}

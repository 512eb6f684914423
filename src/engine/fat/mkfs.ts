/**
 * Formatting a FAT volume: writes the boot sector, FSInfo and backup copies (FAT32),
 * the FATs' reserved entries and the root directory with its volume-label entry, for
 * a layout chosen by layout.ts.
 *
 * A freshly created sparse file already reads as zeros, so on a fresh target only the
 * sectors holding non-zero bytes are written (a handful of sectors whatever the size:
 * that is what makes a 1 TiB image instant). A target that held data before (an
 * existing file, a block device, a partition) gets its whole metadata area — reserved
 * sectors, every FAT, the root directory — zeroed first; the data region is left alone,
 * as every formatter does: free clusters carry no meaning.
 *
 * `mkfs --from DIR` builds on this: planFatLayout → formatFat → open the volume and
 * write the files through the volume write API.
 */
import { DiskkitError, ErrorCode, type DiskkitWarning } from '../errors.js';
import type { BlockSource } from '../../io/block-source.js';
import { encodeBootSector } from './boot-sector.js';
import { encodeFsInfo } from './fsinfo.js';
import { endOfChainValue, writeFatValue } from './fat-entry.js';
import type { FatLayout } from './layout.js';
import { Attr, DIR_ENTRY_SIZE, encodeDirEntry, encodeDosDateTime, encodeRawName, type DirEntry } from './dir-entry.js';

/** OEM name written in new boot sectors. */
export const OEM_NAME = 'DISKKIT';
/** Zeroing in-place targets goes in chunks of this size. */
const ZERO_CHUNK_BYTES = 1024 * 1024;

export interface FormatOptions {
  layout: FatLayout;
  /** Validated label (see validateVolumeLabel), or null for none ("NO NAME"). */
  label: string | null;
  volumeId: number;
  /** Time stamped on the label entry; `utc` writes it in UTC rather than local time. */
  timestamp: Date;
  utc: boolean;
  /** Sectors before the volume on its disk: the partition start, 0 for a bare image. */
  hiddenSectors: number;
  /** True when the target is known to read as zeros (a new sparse file): write only non-zero sectors. */
  fresh: boolean;
}

export interface FormatResult {
  layout: FatLayout;
  volumeId: number;
  label: string | null;
  hiddenSectors: number;
  /** Bytes written to the target (zeroing included). */
  bytesWritten: number;
  writeCalls: number;
  warnings: DiskkitWarning[];
}

// ---------------------------------------------------------------------------------
// Labels, volume ids, timestamps

/** Characters fatgen103 section 6.1 forbids in a short name, and so in a label. */
const FORBIDDEN_LABEL_CHARS = '"*+,./:;<=>?[\\]|';

export interface ValidatedLabel {
  /** The label as stored (upper case, at most 11 characters), or null for none. */
  label: string | null;
  /** True when lower-case letters were upper-cased. */
  upperCased: boolean;
}

/**
 * Checks a volume label against fatgen103's short-name rules: at most 11 printable
 * ASCII characters, none of `"*+,./:;<=>?[\]|`, not starting with a space. Lower case
 * is upper-cased (DIR_Name may not hold lower case; mkfs.fat keeps it and warns).
 * Non-ASCII is refused rather than mapped to an OEM code page.
 */
export function validateVolumeLabel(input: string): ValidatedLabel {
  const fail = (why: string) =>
    new DiskkitError(ErrorCode.USAGE, `invalid volume label '${input.replace(/[^\x20-\x7e]/g, '?')}': ${why}`, {
      context: { field: 'label' },
      hint: 'labels are up to 11 characters: letters, digits, spaces and !#$%&\'()-@^_`{}~',
    });
  const trimmed = input.replace(/ +$/, '');
  if (trimmed === '') return { label: null, upperCased: false };
  if (/[^\x20-\x7e]/.test(trimmed)) throw fail('only printable ASCII characters are allowed');
  if (trimmed.length > 11) throw fail(`it has ${trimmed.length} characters, at most 11 fit`);
  if (trimmed.startsWith(' ')) throw fail('it must not start with a space');
  const bad = [...new Set([...trimmed].filter((c) => FORBIDDEN_LABEL_CHARS.includes(c)))];
  if (bad.length) throw fail(`the characters ${bad.join(' ')} are not allowed`);
  const upper = trimmed.toUpperCase();
  // "NO NAME" is what the boot sector says when there is no label.
  if (upper === 'NO NAME') return { label: null, upperCased: upper !== trimmed };
  return { label: upper, upperCased: upper !== trimmed };
}

/**
 * A random volume id. Volume ids only tell volumes apart (no secrecy), so Math.random
 * (seeded from the OS at start-up) is enough, and node:crypto's load time is saved.
 */
export function randomVolumeId(): number {
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}

/**
 * A volume id derived from `seed`, for reproducible images: FNV-1a over the seed's
 * UTF-16 code units, then a 32-bit avalanche so similar seeds give unrelated ids.
 */
export function derivedVolumeId(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Parses a volume id given as 8 hex digits, with or without a dash in the middle (1234-ABCD). */
export function parseVolumeId(text: string): number {
  const hex = text.replace(/^0x/i, '').replace(/-/, '');
  if (!/^[0-9a-f]{1,8}$/i.test(hex)) {
    throw new DiskkitError(ErrorCode.USAGE, `--volume-id takes up to 8 hex digits (like 1234ABCD or 1234-ABCD), not '${text}'`, { context: { field: 'volumeId' } });
  }
  return parseInt(hex, 16) >>> 0;
}

/** Formats a volume id the way DOS shows it: 1234-ABCD. */
export function formatVolumeId(id: number): string {
  const hex = (id >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}

/**
 * The root-directory entry that holds the volume label: name = label, attribute
 * ATTR_VOLUME_ID, no cluster, size 0 (fatgen103 section 6).
 */
function encodeVolumeLabelEntry(label: string, when: Date, utc: boolean, fatType: FatLayout['fatType']): Uint8Array {
  const entry = new Uint8Array(DIR_ENTRY_SIZE);
  const { date, time } = encodeDosDateTime(when, utc);
  const entryFields: DirEntry = {
    rawName: encodeRawName(label.padEnd(11, ' ')),
    attributes: Attr.VOLUME_ID,
    ntFlags: 0,
    createTimeTenth: 0,
    createTime: time,
    createDate: date,
    accessDate: date,
    writeTime: time,
    writeDate: date,
    startCluster: 0,
    fileSize: 0,
  };
  encodeDirEntry(entryFields, entry, 0, fatType);
  return entry;
}

// ---------------------------------------------------------------------------------
// Writing the volume

/** Writes `length` zero bytes at `position`, in chunks. */
function zeroRange(target: BlockSource, position: number, length: number): void {
  const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, length));
  for (let done = 0; done < length; done += zeros.length) {
    const n = Math.min(zeros.length, length - done);
    target.writeAt(zeros, 0, n, position + done);
  }
}

/** The first sector of a FAT: entry 0 = media byte with the other bits set, entry 1 = end of chain, and on FAT32 entry 2 = the root directory's one-cluster chain. */
function encodeFirstFatSector(layout: FatLayout): Uint8Array {
  const sector = new Uint8Array(layout.bytesPerSector);
  const type = layout.fatType;
  const allOnes = endOfChainValue(type);
  writeFatValue(sector, type, 0, (allOnes & ~0xff) | layout.media);
  // Entry 1 all ones: end of chain, and on FAT16/32 its top bits say "clean shutdown"
  // and "no disk errors" (fatgen103 section 4).
  writeFatValue(sector, type, 1, allOnes);
  if (type === 'fat32') writeFatValue(sector, type, layout.rootCluster, allOnes);
  return sector;
}

/**
 * Formats `target` with `options.layout`. The target must be at least
 * layout.totalSectors × bytesPerSector long. On a fresh (all-zero) target only the
 * non-zero sectors are written; otherwise the metadata area is zeroed first.
 */
export function formatFat(target: BlockSource, options: FormatOptions): FormatResult {
  const { layout, label, volumeId, hiddenSectors } = options;
  const ss = layout.bytesPerSector;
  const volumeBytes = layout.totalSectors * ss;
  if (target.size < volumeBytes) {
    throw new DiskkitError(ErrorCode.TRUNCATED, `target holds ${target.size} bytes, the layout needs ${volumeBytes}`, { context: { image: target.name } });
  }
  const before = { bytes: target.counters.bytesWritten, calls: target.counters.writeCalls };
  const is32 = layout.fatType === 'fat32';
  const rootStartSector = is32 ? layout.firstDataSector : layout.rootDirSector;
  const rootSectors = is32 ? layout.sectorsPerCluster : layout.rootDirSectors;

  if (!options.fresh) {
    // Old FATs or directory entries must not survive into the new volume.
    zeroRange(target, 0, (rootStartSector + rootSectors) * ss);
  }

  const boot = encodeBootSector({
    oemName: OEM_NAME,
    bytesPerSector: ss,
    sectorsPerCluster: layout.sectorsPerCluster,
    reservedSectors: layout.reservedSectors,
    numberOfFats: layout.numberOfFats,
    rootEntryCount: layout.rootEntryCount,
    totalSectors: layout.totalSectors,
    media: layout.media,
    sectorsPerFat: layout.sectorsPerFat,
    sectorsPerTrack: layout.sectorsPerTrack,
    numberOfHeads: layout.numberOfHeads,
    hiddenSectors,
    driveNumber: layout.driveNumber,
    volumeId,
    volumeLabel: label,
    fileSystemTypeLabel: '',
    extFlags: 0,
    fsVersion: 0,
    rootCluster: layout.rootCluster,
    fsInfoSector: layout.fsInfoSector,
    backupBootSector: layout.backupBootSector,
    fatType: layout.fatType,
  });

  if (is32) {
    // Sectors 0..7 in one write: boot, FSInfo, (zeros), backup boot, backup FSInfo.
    // FSInfo: every cluster but the root directory's is free; the last one allocated is 2.
    const head = new Uint8Array(Math.max(layout.backupBootSector + 2, layout.fsInfoSector + 1) * ss);
    const fsInfo = encodeFsInfo(layout.clusterCount - 1, layout.rootCluster, ss);
    head.set(boot, 0);
    head.set(fsInfo, layout.fsInfoSector * ss);
    head.set(boot, layout.backupBootSector * ss);
    head.set(fsInfo, (layout.backupBootSector + layout.fsInfoSector) * ss);
    target.writeAt(head, 0, head.length, 0);
  } else {
    target.writeAt(boot, 0, boot.length, 0);
  }

  const firstFatSector = encodeFirstFatSector(layout);
  for (let copy = 0; copy < layout.numberOfFats; copy++) {
    target.writeAt(firstFatSector, 0, ss, (layout.firstFatSector + copy * layout.sectorsPerFat) * ss);
  }

  if (label !== null) {
    const rootSector = new Uint8Array(ss);
    rootSector.set(encodeVolumeLabelEntry(label, options.timestamp, options.utc, layout.fatType), 0);
    target.writeAt(rootSector, 0, ss, rootStartSector * ss);
  }

  target.sync();
  const warnings: DiskkitWarning[] = layout.notes.map((message) => ({ code: 'W_LAYOUT', message }));
  return {
    layout,
    volumeId,
    label,
    hiddenSectors,
    bytesWritten: target.counters.bytesWritten - before.bytes,
    writeCalls: target.counters.writeCalls - before.calls,
    warnings,
  };
}

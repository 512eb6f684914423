/**
 * Reading every FAT copy for the check (fatgen103 section 4): the used part of each
 * copy is scanned through the io layer, decoded into one Uint32Array of raw entry
 * values per distinct copy, and the copies compared. Also the checks of the two
 * reserved entries FAT[0] (media byte) and FAT[1] (end-of-chain, clean/hard-error
 * bits, fatgen103 section 4 "FAT[1]").
 */
import type { BlockSource } from '../../../io/block-source.js';
import type { ReadMode } from '../../../io/scan.js';
import type { BootSector, FatType } from '../boot-sector.js';
import { badClusterValue, readFatValue } from '../fat-entry.js';
import type { ClusterCounts } from './lost-chains.js';
import { FindingList, FsckCode } from './findings.js';

/** fatgen103 section 4: FAT16 bit 15 / FAT32 bit 27 of FAT[1] set = volume cleanly unmounted. */
export const CLEAN_SHUTDOWN_BIT: Record<FatType, number> = { fat12: 0, fat16: 0x8000, fat32: 0x08000000 };
/** FAT16 bit 14 / FAT32 bit 26 of FAT[1] set = no disk I/O error met. */
export const HARD_ERROR_BIT: Record<FatType, number> = { fat12: 0, fat16: 0x4000, fat32: 0x04000000 };

export interface FatCopies {
  /** Decoded raw values (FAT32 masked to 28 bits) of each copy; identical copies share one array. */
  tables: Uint32Array[];
  /** Free and bad clusters of each table. */
  counts: ClusterCounts[];
  /** Cluster numbers where copy k differs from copy 0 (at most MAX_LISTED kept), per copy. */
  differing: number[][];
  /** Whether copy k differs from copy 0 at all (reserved entries included). */
  differs: boolean[];
  /** Bytes of the used part of one copy. */
  usedBytes: number;
}

const MAX_LISTED = 1_000_000;

/** Number of bytes of one FAT that map clusters 0..maxCluster. */
export function usedFatBytes(boot: BootSector): number {
  const bits = boot.fatType === 'fat12' ? 12 : boot.fatType === 'fat16' ? 16 : 32;
  return Math.min(boot.sectorsPerFat * boot.bytesPerSector, Math.ceil(((boot.clusterCount + 2) * bits) / 8));
}

/**
 * Decodes clusters 0..maxCluster of one copy into raw values, counting free and bad
 * clusters (2..maxCluster) on the same pass: the check needs both and a second pass
 * over a multi-million-entry table is not free.
 */
function decode(bytes: Uint8Array, type: FatType, maxCluster: number, inPlace = false): { table: Uint32Array; counts: ClusterCounts } {
  const bad = badClusterValue(type);
  let free = 0;
  let badCount = 0;
  let out: Uint32Array;
  if (type === 'fat32') {
    // FAT32 entries are already 32-bit little-endian words: mask the reserved top bits, in place when the bytes are ours to change.
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset, maxCluster + 1);
    out = inPlace ? view : new Uint32Array(maxCluster + 1);
    out[0] = view[0]! & 0x0fffffff;
    out[1] = view[1]! & 0x0fffffff;
    for (let c = 2; c <= maxCluster; c++) {
      const v = view[c]! & 0x0fffffff;
      out[c] = v;
      if (v === 0) free++;
      else if (v === bad) badCount++;
    }
  } else {
    out = new Uint32Array(maxCluster + 1);
    for (let c = 0; c <= maxCluster; c++) {
      const v = readFatValue(bytes, type, c);
      out[c] = v;
      if (c < 2) continue;
      if (v === 0) free++;
      else if (v === bad) badCount++;
    }
  }
  return { table: out, counts: { free, bad: badCount } };
}

async function readCopy(source: BlockSource, boot: BootSector, copy: number, used: number, mode: ReadMode | undefined): Promise<Uint8Array> {
  // 4-byte aligned buffer so FAT32 can be viewed as Uint32 entries.
  const bytes = new Uint8Array(Math.ceil(used / 4) * 4);
  const position = (boot.firstFatSector + copy * boot.sectorsPerFat) * boot.bytesPerSector;
  // Without a chosen read mode, one positional read straight into the table's buffer (no chunk copies).
  if (mode === undefined) source.readAt(bytes, 0, used, position);
  else {
    const { scanExtents } = await import('../../../io/scan.js');
    await scanExtents(source, [{ position, length: used }], (chunk, at) => bytes.set(chunk, at), { mode });
  }
  return bytes;
}

/** Reads and compares every FAT copy. */
export async function readFatCopies(source: BlockSource, boot: BootSector, mode?: ReadMode): Promise<FatCopies> {
  const used = usedFatBytes(boot);
  const maxCluster = boot.clusterCount + 1;
  const first = await readCopy(source, boot, 0, used, mode);
  const copies = [first];
  for (let copy = 1; copy < boot.numberOfFats; copy++) copies.push(await readCopy(source, boot, copy, used, mode));
  // Compare the raw bytes (memcmp) before the first copy is decoded in place.
  const sameAsFirst = copies.map((bytes) => bytes === first || Buffer.compare(Buffer.from(bytes.buffer, bytes.byteOffset, used), Buffer.from(first.buffer, first.byteOffset, used)) === 0);
  const decoded = decode(first, boot.fatType, maxCluster, sameAsFirst.every(Boolean));
  const firstTable = decoded.table;
  const tables = [firstTable];
  const counts = [decoded.counts];
  const differing: number[][] = [[]];
  const differs = [false];
  for (let copy = 1; copy < boot.numberOfFats; copy++) {
    const bytes = copies[copy]!;
    if (sameAsFirst[copy]) {
      tables.push(firstTable);
      counts.push(decoded.counts);
      differing.push([]);
      differs.push(false);
      continue;
    }
    const other = decode(bytes, boot.fatType, maxCluster);
    const table = other.table;
    counts.push(other.counts);
    const list: number[] = [];
    for (let c = 0; c <= maxCluster && list.length < MAX_LISTED; c++) if (table[c] !== firstTable[c]) list.push(c);
    tables.push(table);
    differing.push(list);
    // Differences only in FAT32's reserved top bits leave the decoded tables equal but the bytes not.
    differs.push(true);
  }
  return { tables, counts, differing, differs, usedBytes: used };
}

/** The value FAT[0] must hold: the media byte with every other bit set. */
export function expectedFat0(boot: BootSector, media = boot.media): number {
  const ones = boot.fatType === 'fat12' ? 0xf00 : boot.fatType === 'fat16' ? 0xff00 : 0x0fffff00;
  return ones | media;
}

/** fatgen103 section 3.1 BPB_Media: 0xF0 or 0xF8..0xFF. */
export const validMedia = (media: number): boolean => media === 0xf0 || (media >= 0xf8 && media <= 0xff);

export interface ReservedEntryState {
  fat0Bad: boolean;
  fat1NotEnd: boolean;
  dirtyBit: boolean;
  hardErrorBit: boolean;
}

/** Checks FAT[0] and FAT[1] of the chosen table. */
export function checkReservedEntries(table: Uint32Array, boot: BootSector, findings: FindingList, media = boot.media): ReservedEntryState {
  const type = boot.fatType;
  const fat0 = table[0]!;
  const fat1 = table[1]!;
  const state: ReservedEntryState = { fat0Bad: false, fat1NotEnd: false, dirtyBit: false, hardErrorBit: false };
  if ((fat0 & 0xff) !== media || fat0 !== expectedFat0(boot, media)) {
    state.fat0Bad = true;
    findings.add(FsckCode.MEDIA, `FAT[0] is 0x${fat0.toString(16)}, expected 0x${expectedFat0(boot, media).toString(16)} (media byte 0x${media.toString(16)} of the boot sector)`, { clusters: [0] });
  }
  // FAT[1] holds an end-of-chain mark; on FAT16/32 its top two bits are the clean and no-error flags.
  const flagBits = CLEAN_SHUTDOWN_BIT[type] | HARD_ERROR_BIT[type];
  const endMin = type === 'fat12' ? 0xff8 : type === 'fat16' ? 0xfff8 : 0x0ffffff8;
  const withFlags = fat1 | flagBits;
  if (withFlags < endMin) {
    state.fat1NotEnd = true;
    findings.add(FsckCode.FAT_RESERVED, `FAT[1] is 0x${fat1.toString(16)}, not an end-of-chain mark`, { clusters: [1] });
  } else if (type !== 'fat12') {
    if ((fat1 & CLEAN_SHUTDOWN_BIT[type]) === 0) {
      state.dirtyBit = true;
      findings.add(FsckCode.DIRTY, 'FAT[1] clean-shutdown bit is clear: the volume was not cleanly unmounted', { clusters: [1] });
    }
    if ((fat1 & HARD_ERROR_BIT[type]) === 0) {
      state.hardErrorBit = true;
      findings.add(FsckCode.HARD_ERROR, 'FAT[1] hard-error bit is clear: the last mount met disk I/O errors', { clusters: [1] });
    }
  }
  return state;
}

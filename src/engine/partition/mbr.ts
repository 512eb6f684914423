/**
 * The Master Boot Record partition table and its extended-partition chain of
 * Extended Boot Records (EBRs).
 *
 * Layout (the IBM PC convention, also UEFI 2.10 section 5.2.1 "Legacy MBR"):
 * four 16-byte partition entries at byte 446, the 0x55 0xAA signature at 510.
 * A primary entry of type 0x05, 0x0F or 0x85 is an extended partition; its first
 * sector holds an EBR whose entry 0 describes one logical partition (start relative
 * to that EBR) and whose entry 1 points at the next EBR (start relative to the
 * extended partition). A type 0xEE entry is a protective MBR: the disk uses GPT.
 *
 * Partition numbers follow the Linux convention users know from fdisk/sfdisk:
 * primaries are 1..4 by slot, logical partitions 5, 6, ... in chain order.
 */
import { defineStruct, type Decoded } from '../struct.js';
import { ErrorCode, type DiskkitWarning } from '../errors.js';
import type { BlockSource } from '../../io/block-source.js';
import type { Partition } from './partition.js';

export const MBR_SIZE = 512;
export const MBR_ENTRIES_OFFSET = 446;
export const MBR_ENTRY_SIZE = 16;
export const MBR_ENTRY_COUNT = 4;
export const MBR_SIGNATURE_OFFSET = 510;
export const MBR_SIGNATURE = 0xaa55;
export const MBR_TYPE_EMPTY = 0x00;
export const MBR_TYPE_GPT_PROTECTIVE = 0xee;
/** Extended partition types: CHS (0x05), LBA (0x0F), Linux (0x85). */
export const MBR_EXTENDED_TYPES: ReadonlySet<number> = new Set([0x05, 0x0f, 0x85]);
export const MBR_STATUS_ACTIVE = 0x80;
/** A longer EBR chain than this is treated as corrupt: real disks hold a few dozen at most. */
export const MAX_LOGICAL_PARTITIONS = 256;

/** One 16-byte partition entry. CHS addresses are kept raw: LBA fields are authoritative. */
export const MbrPartitionEntry = defineStruct('MBR partition entry', MBR_ENTRY_SIZE, {
  status: { offset: 0, type: 'u8' },
  chsFirst: { offset: 1, type: { bytes: 3 } },
  type: { offset: 4, type: 'u8' },
  chsLast: { offset: 5, type: { bytes: 3 } },
  lbaStart: { offset: 8, type: 'u32' },
  sectorCount: { offset: 12, type: 'u32' },
});

/** The fields of the boot sector that matter to the table (code at 0..439 is opaque). */
export const MasterBootRecord = defineStruct('MBR', MBR_SIZE, {
  diskSignature: { offset: 440, type: 'u32' },
  copyProtected: { offset: 444, type: 'u16' },
  entries: { offset: MBR_ENTRIES_OFFSET, type: { bytes: MBR_ENTRY_SIZE * MBR_ENTRY_COUNT } },
  signature: { offset: MBR_SIGNATURE_OFFSET, type: 'u16' },
});

export type MbrEntry = Decoded<typeof MbrPartitionEntry.fields>;

export interface DecodedMbr {
  diskSignature: number;
  /** Always four entries, empty ones included (type 0). */
  entries: MbrEntry[];
}

/** Names for the type bytes a user is likely to meet. */
const MBR_TYPE_NAMES: Record<number, string> = {
  0x01: 'FAT12',
  0x04: 'FAT16 <32M',
  0x05: 'Extended',
  0x06: 'FAT16',
  0x07: 'NTFS/exFAT',
  0x0b: 'FAT32',
  0x0c: 'FAT32 (LBA)',
  0x0e: 'FAT16 (LBA)',
  0x0f: 'Extended (LBA)',
  0x11: 'Hidden FAT12',
  0x14: 'Hidden FAT16 <32M',
  0x16: 'Hidden FAT16',
  0x17: 'Hidden NTFS',
  0x1b: 'Hidden FAT32',
  0x1c: 'Hidden FAT32 (LBA)',
  0x1e: 'Hidden FAT16 (LBA)',
  0x27: 'Windows recovery',
  0x82: 'Linux swap',
  0x83: 'Linux',
  0x85: 'Linux extended',
  0x8e: 'Linux LVM',
  0xa5: 'FreeBSD',
  0xa6: 'OpenBSD',
  0xa9: 'NetBSD',
  0xaf: 'Apple HFS',
  0xee: 'GPT protective',
  0xef: 'EFI System',
  0xfd: 'Linux RAID',
};

export function mbrTypeName(type: number): string {
  return MBR_TYPE_NAMES[type] ?? 'Unknown';
}

export function mbrTypeCode(type: number): string {
  return `0x${type.toString(16).padStart(2, '0')}`;
}

/**
 * Decodes the table of a 512-byte MBR or EBR sector. Returns null when the sector is
 * not one: no 55 AA signature, or a status byte other than 0x00/0x80 (which is how
 * a FAT or NTFS boot sector's code is told apart from partition entries).
 */
export function decodeMbr(sector: Uint8Array): DecodedMbr | null {
  const raw = MasterBootRecord.decode(sector);
  if (raw.signature !== MBR_SIGNATURE) return null;
  const entries: MbrEntry[] = [];
  for (let i = 0; i < MBR_ENTRY_COUNT; i++) {
    const entry = MbrPartitionEntry.decode(sector, MBR_ENTRIES_OFFSET + i * MBR_ENTRY_SIZE);
    if (entry.status !== 0 && entry.status !== MBR_STATUS_ACTIVE) return null;
    entries.push(entry);
  }
  return { diskSignature: raw.diskSignature, entries };
}

/** Encodes a table into `sector` (the boot code area is left as it is) and sets the signature. */
export function encodeMbr(mbr: DecodedMbr, sector: Uint8Array): void {
  if (mbr.entries.length > MBR_ENTRY_COUNT) throw new Error(`an MBR holds ${MBR_ENTRY_COUNT} entries, not ${mbr.entries.length}`);
  MasterBootRecord.encode({ diskSignature: mbr.diskSignature, signature: MBR_SIGNATURE }, sector);
  for (let i = 0; i < MBR_ENTRY_COUNT; i++) {
    const entry = mbr.entries[i] ?? emptyMbrEntry();
    MbrPartitionEntry.encode(entry, sector, MBR_ENTRIES_OFFSET + i * MBR_ENTRY_SIZE);
  }
}

export function emptyMbrEntry(): MbrEntry {
  return { status: 0, chsFirst: new Uint8Array(3), type: 0, chsLast: new Uint8Array(3), lbaStart: 0, sectorCount: 0 };
}

export function isProtectiveMbr(mbr: DecodedMbr): boolean {
  return mbr.entries.some((e) => e.type === MBR_TYPE_GPT_PROTECTIVE);
}

function toPartition(index: number, entry: MbrEntry, lbaStart: number, sectorSize: number, kind: 'primary' | 'logical'): Partition {
  return {
    index,
    scheme: 'mbr',
    kind,
    start: lbaStart * sectorSize,
    size: entry.sectorCount * sectorSize,
    type: mbrTypeName(entry.type),
    typeCode: mbrTypeCode(entry.type),
    name: null,
    guid: null,
    bootable: entry.status === MBR_STATUS_ACTIVE,
  };
}

/**
 * The partitions of an MBR disk: primaries (extended containers excluded) and the
 * logical partitions of the first extended partition. A broken or looping EBR
 * chain stops the walk with a warning; the partitions found before it are kept.
 */
export function readMbrPartitions(source: BlockSource, mbr: DecodedMbr, sectorSize = 512): { partitions: Partition[]; warnings: DiskkitWarning[] } {
  const partitions: Partition[] = [];
  const warnings: DiskkitWarning[] = [];
  let extended: MbrEntry | null = null;
  mbr.entries.forEach((entry, slot) => {
    if (entry.type === MBR_TYPE_EMPTY || entry.sectorCount === 0) return;
    if (MBR_EXTENDED_TYPES.has(entry.type)) {
      if (extended === null) extended = entry;
      else warnings.push({ code: ErrorCode.PARTITION, message: `second extended partition in slot ${slot + 1} ignored`, context: { partition: slot + 1 } });
      return;
    }
    partitions.push(toPartition(slot + 1, entry, entry.lbaStart, sectorSize, 'primary'));
  });
  if (extended !== null) walkEbrChain(source, extended, sectorSize, partitions, warnings);
  return { partitions, warnings };
}

function walkEbrChain(source: BlockSource, extended: MbrEntry, sectorSize: number, partitions: Partition[], warnings: DiskkitWarning[]): void {
  const extendedStart = extended.lbaStart;
  const extendedEnd = extendedStart + extended.sectorCount;
  const visited = new Set<number>();
  const sector = new Uint8Array(MBR_SIZE);
  let ebrLba = extendedStart;
  let index = 5;
  for (;;) {
    if (visited.has(ebrLba)) {
      warnings.push({
        code: ErrorCode.PARTITION,
        message: `extended partition chain loops back to the EBR at sector ${ebrLba}; logical partitions after ${index - 1} ignored`,
        context: { offset: ebrLba * sectorSize },
      });
      return;
    }
    if (visited.size >= MAX_LOGICAL_PARTITIONS) {
      warnings.push({ code: ErrorCode.LIMIT, message: `more than ${MAX_LOGICAL_PARTITIONS} logical partitions; the rest ignored`, context: { offset: ebrLba * sectorSize } });
      return;
    }
    visited.add(ebrLba);
    if (ebrLba < extendedStart || ebrLba >= extendedEnd || (ebrLba + 1) * sectorSize > source.size) {
      warnings.push({
        code: ErrorCode.PARTITION,
        message: `EBR at sector ${ebrLba} lies outside the extended partition or the image; logical partitions from ${index} on ignored`,
        context: { offset: ebrLba * sectorSize },
      });
      return;
    }
    source.readAt(sector, 0, MBR_SIZE, ebrLba * sectorSize);
    const ebr = decodeMbr(sector);
    if (ebr === null) {
      warnings.push({ code: ErrorCode.PARTITION, message: `no valid EBR at sector ${ebrLba}; logical partitions from ${index} on ignored`, context: { offset: ebrLba * sectorSize } });
      return;
    }
    const [logical, next] = ebr.entries as [MbrEntry, MbrEntry];
    if (logical.type !== MBR_TYPE_EMPTY && logical.sectorCount !== 0) {
      const start = ebrLba + logical.lbaStart;
      if (start + logical.sectorCount > extendedEnd) {
        warnings.push({ code: ErrorCode.PARTITION, message: `logical partition ${index} runs past the end of its extended partition`, context: { partition: index } });
      }
      partitions.push(toPartition(index, logical, start, sectorSize, 'logical'));
      index++;
    }
    if (next.type === MBR_TYPE_EMPTY || next.sectorCount === 0) return;
    ebrLba = extendedStart + next.lbaStart;
  }
}


/**
 * The repairs the analysis decides on, as data: the check never writes, it fills a
 * plan, and `applyPlan` (repair.ts) carries it out only under --repair.
 */

import type { FsckCodeValue } from './findings.js';

/** A change to one 32-byte directory slot. */
export interface EntryEdit {
  /** The finding the change answers, when it is not implied by the fields. */
  code?: FsckCodeValue;
  /** Byte position of the slot in the image. */
  position: number;
  path: string;
  start?: number;
  size?: number;
  rawName?: Uint8Array;
  /** Attribute byte to write (dot entries that are not marked as directories; 0 for a removed label). */
  attributes?: number;
  /** NT case byte to write (garbage bits cleared). */
  ntFlags?: number;
  /** Mark the slot deleted. */
  delete?: boolean;
  /** Long-name slots of the entry whose checksum must follow a new short name. */
  lfnSlots?: number[];
}

/** Cut a chain: `cutAt` becomes end-of-chain (0: the entry loses its whole chain); `free` clusters after it are freed. */
export interface ChainCut {
  owner: number;
  cutAt: number;
  /** Number of the owner's clusters past `cutAt` to free. */
  free: number;
  path: string;
  reason: string;
}

export interface CrossLinkFix {
  /** The owner that gets its own copy of the shared clusters. */
  owner: number;
  other: number;
  /** Last cluster of `owner` before the shared part (0: the entry's start is shared). */
  prev: number;
  shared: number;
  /** Clusters of its own the owner already has before the shared part. */
  ownCount: number;
  /** File: clusters the size needs; directories: Infinity. */
  needed: number;
  isDir: boolean;
  path: string;
  otherPath: string;
}

export interface LostChain {
  owner: number;
  head: number;
  length: number;
  /** Last cluster kept in the chain; its FAT entry is set to end-of-chain when it is not already. */
  last: number;
  terminated: boolean;
}

export interface RepairPlan {
  chosenCopy: number;
  syncFats: boolean;
  fixFat0: boolean;
  fixFat1: boolean;
  clearDirty: boolean;
  restoreBackup: boolean;
  rewriteFsInfo: boolean;
  /** Copy the (final) primary FSInfo sector over the damaged backup FSInfo sector. */
  rewriteFsInfoBackup: boolean;
  /** 11 bytes to write as the boot sector's volume label (and its FAT32 backup's), or null. */
  bootLabel: Uint8Array | null;
  /** Write the extended boot signature 0x29 back in front of the extended BPB that is still there. */
  restoreSignature: boolean;
  /** A valid media byte (FAT[0]'s) to write over the boot sector's invalid one, or null. */
  bootMedia: number | null;
  /** FAT32: the sector number to write into BPB_BkBootSec (it pointed outside the reserved sectors), or null. */
  backupField: number | null;
  /** FAT32: the sector number to write into BPB_FSInfo (it pointed outside the usable reserved sectors), or null. */
  fsInfoField: number | null;
  entryEdits: EntryEdit[];
  /** Long-name slots to mark deleted, by byte position. */
  slotDeletes: { position: number; path: string; why: string }[];
  /** Long-name slots whose reserved fields (byte 12, bytes 26..27) are set to 0, by byte position. */
  lfnReservedFixes: { position: number; path: string }[];
  cuts: ChainCut[];
  crossLinks: CrossLinkFix[];
  lostChains: LostChain[];
  /**
   * Whole-slot writes done after every other directory edit, in order: an entry moved
   * down to a free slot (`moveFrom`), then a created '.' or '..' entry (`bytes`).
   */
  slotWrites: SlotWrite[];
  /** Slots past a directory's end mark that are not empty: their first byte becomes 0x00, as the end mark says. */
  endMarks: { position: number; path: string }[];
}

export interface SlotWrite {
  position: number;
  path: string;
  /** The 32 bytes to write. */
  bytes?: Uint8Array;
  /** Copy the slot at this position here (then `bytes` is not set). */
  moveFrom?: number;
  what: string;
}

export function emptyPlan(): RepairPlan {
  return {
    chosenCopy: 0,
    syncFats: false,
    fixFat0: false,
    fixFat1: false,
    clearDirty: false,
    restoreBackup: false,
    rewriteFsInfo: false,
    rewriteFsInfoBackup: false,
    bootLabel: null,
    restoreSignature: false,
    bootMedia: null,
    backupField: null,
    fsInfoField: null,
    entryEdits: [],
    slotDeletes: [],
    lfnReservedFixes: [],
    cuts: [],
    crossLinks: [],
    lostChains: [],
    slotWrites: [],
    endMarks: [],
  };
}

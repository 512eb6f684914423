/**
 * Packing and meaning of single FAT entries (fatgen103 section 4). Raw values are
 * turned into a meaning before any chain logic sees them.
 */
import type { FatType } from './boot-sector.js';

export type FatEntry =
  | { kind: 'free' }
  | { kind: 'next'; cluster: number }
  | { kind: 'bad' }
  | { kind: 'end' }
  /** A value that is neither: 1, or the reserved range 0x?FF0..0x?FF6, or a cluster past the volume. */
  | { kind: 'invalid'; value: number };

/** The value written for end-of-chain. */
export function endOfChainValue(type: FatType): number {
  return type === 'fat12' ? 0xfff : type === 'fat16' ? 0xffff : 0x0fffffff;
}

export function badClusterValue(type: FatType): number {
  return type === 'fat12' ? 0xff7 : type === 'fat16' ? 0xfff7 : 0x0ffffff7;
}

/**
 * Classifies a raw FAT value. `maxCluster` is the highest valid cluster number
 * (clusterCount + 1): anything above it that is not a marker is invalid.
 */
export function classifyFatValue(type: FatType, value: number, maxCluster: number): FatEntry {
  const v = type === 'fat32' ? value & 0x0fffffff : value;
  if (v === 0) return { kind: 'free' };
  const bad = badClusterValue(type);
  if (v === bad) return { kind: 'bad' };
  if (v > bad) return { kind: 'end' };
  if (v >= 2 && v <= maxCluster) return { kind: 'next', cluster: v };
  return { kind: 'invalid', value: v };
}

/** Reads entry `cluster` of a FAT held in `fat` (the whole table, or at least up to that entry). */
export function readFatValue(fat: Uint8Array, type: FatType, cluster: number): number {
  if (type === 'fat16') return fat[cluster * 2]! | (fat[cluster * 2 + 1]! << 8);
  if (type === 'fat32') {
    const o = cluster * 4;
    return (fat[o]! | (fat[o + 1]! << 8) | (fat[o + 2]! << 16) | (fat[o + 3]! << 24)) >>> 0;
  }
  // FAT12: entries are 12 bits, two per three bytes; odd entries take the high 12 bits.
  const o = cluster + (cluster >>> 1);
  const pair = fat[o]! | (fat[o + 1]! << 8);
  return cluster & 1 ? pair >>> 4 : pair & 0xfff;
}

/**
 * Writes entry `cluster`. On FAT32 the top four bits are reserved and kept as they
 * were (fatgen103 section 4: "the high 4 bits ... must be preserved").
 */
export function writeFatValue(fat: Uint8Array, type: FatType, cluster: number, value: number): void {
  if (type === 'fat16') {
    fat[cluster * 2] = value & 0xff;
    fat[cluster * 2 + 1] = (value >>> 8) & 0xff;
  } else if (type === 'fat32') {
    const o = cluster * 4;
    const kept = fat[o + 3]! & 0xf0;
    fat[o] = value & 0xff;
    fat[o + 1] = (value >>> 8) & 0xff;
    fat[o + 2] = (value >>> 16) & 0xff;
    fat[o + 3] = kept | ((value >>> 24) & 0x0f);
  } else {
    const o = cluster + (cluster >>> 1);
    if (cluster & 1) {
      fat[o] = (fat[o]! & 0x0f) | ((value << 4) & 0xf0);
      fat[o + 1] = (value >>> 4) & 0xff;
    } else {
      fat[o] = value & 0xff;
      fat[o + 1] = (fat[o + 1]! & 0xf0) | ((value >>> 8) & 0x0f);
    }
  }
}

/** Byte offset within the FAT of entry `cluster`, and how many bytes it touches. */
export function fatEntryByteRange(type: FatType, cluster: number): { offset: number; length: number } {
  if (type === 'fat16') return { offset: cluster * 2, length: 2 };
  if (type === 'fat32') return { offset: cluster * 4, length: 4 };
  return { offset: cluster + (cluster >>> 1), length: 2 };
}

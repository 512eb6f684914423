/**
 * The FAT32 FSInfo sector (fatgen103 section 5): a hint of the free cluster count and
 * of where to look for the next free cluster. Hints only: 0xFFFFFFFF means unknown,
 * and a value out of range must be ignored, never trusted.
 */
import { defineStruct } from '../struct.js';

export const FSINFO_LEAD_SIGNATURE = 0x41615252;
export const FSINFO_STRUCT_SIGNATURE = 0x61417272;
export const FSINFO_TRAIL_SIGNATURE = 0xaa550000;
export const FSINFO_UNKNOWN = 0xffffffff;

export const FsInfoSector = defineStruct('FSInfo', 512, {
  leadSignature: { offset: 0, type: 'u32' },
  structSignature: { offset: 484, type: 'u32' },
  freeCount: { offset: 488, type: 'u32' },
  nextFree: { offset: 492, type: 'u32' },
  trailSignature: { offset: 508, type: 'u32' },
});

export interface FsInfo {
  /** All three signatures present. */
  valid: boolean;
  /** Free cluster count, or null when unknown or out of range. */
  freeCount: number | null;
  /** Next-free hint, or null when unknown or out of range. */
  nextFree: number | null;
  rawFreeCount: number;
  rawNextFree: number;
}

export function decodeFsInfo(sector: Uint8Array, clusterCount: number): FsInfo {
  const raw = FsInfoSector.decode(sector);
  const valid =
    raw.leadSignature === FSINFO_LEAD_SIGNATURE && raw.structSignature === FSINFO_STRUCT_SIGNATURE && raw.trailSignature === FSINFO_TRAIL_SIGNATURE;
  return {
    valid,
    freeCount: valid && raw.freeCount <= clusterCount ? raw.freeCount : null,
    nextFree: valid && raw.nextFree >= 2 && raw.nextFree <= clusterCount + 1 ? raw.nextFree : null,
    rawFreeCount: raw.freeCount,
    rawNextFree: raw.nextFree,
  };
}

/** Encodes a full FSInfo sector of `bytesPerSector` bytes (null hints are written as unknown). */
export function encodeFsInfo(freeCount: number | null, nextFree: number | null, bytesPerSector: number): Uint8Array {
  const sector = new Uint8Array(bytesPerSector);
  FsInfoSector.encode(
    {
      leadSignature: FSINFO_LEAD_SIGNATURE,
      structSignature: FSINFO_STRUCT_SIGNATURE,
      freeCount: freeCount ?? FSINFO_UNKNOWN,
      nextFree: nextFree ?? FSINFO_UNKNOWN,
      trailSignature: FSINFO_TRAIL_SIGNATURE,
    },
    sector,
  );
  return sector;
}

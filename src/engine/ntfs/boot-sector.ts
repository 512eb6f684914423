/**
 * The NTFS boot sector and its BIOS parameter block (the layout documented in
 * Microsoft's "NTFS Technical Reference", Boot Sector, and the Linux-NTFS
 * documentation, "Boot sector"). diskkit reads it to find `$MFT` in a volume and to
 * learn the MFT record size, which is 1024 bytes on most volumes and 4096 on
 * 4K-native disks (edge case 1).
 */
import { defineStruct } from '../struct.js';
import { DiskkitError, ErrorCode } from '../errors.js';

export const NTFS_OEM_ID = 'NTFS    ';
export const BOOT_SIGNATURE = 0xaa55;
/** Largest NTFS cluster (Windows 10 1709 and later allow 2 MiB clusters). */
export const MAX_CLUSTER_SIZE = 2 * 1024 * 1024;
/** MFT records are 1 KiB or 4 KiB in practice; accept any power of two in this range. */
export const MIN_RECORD_SIZE = 512;
export const MAX_RECORD_SIZE = 65536;

export const NtfsBootSector = defineStruct('NtfsBootSector', 512, {
  jump: { offset: 0x00, type: { bytes: 3 } },
  oemId: { offset: 0x03, type: { bytes: 8 } },
  bytesPerSector: { offset: 0x0b, type: 'u16' },
  sectorsPerCluster: { offset: 0x0d, type: 'u8' },
  mediaDescriptor: { offset: 0x15, type: 'u8' },
  totalSectors: { offset: 0x28, type: 'u64' },
  mftLcn: { offset: 0x30, type: 'u64' },
  mftMirrorLcn: { offset: 0x38, type: 'u64' },
  /** Signed: a positive value counts clusters, a negative value n means 2^-n bytes. */
  clustersPerMftRecord: { offset: 0x40, type: 'u8' },
  clustersPerIndexRecord: { offset: 0x44, type: 'u8' },
  volumeSerial: { offset: 0x48, type: { bytes: 8 } },
  signature: { offset: 0x1fe, type: 'u16' },
});

export interface NtfsGeometry {
  bytesPerSector: number;
  clusterSize: number;
  totalSectors: number;
  /** Volume size in bytes as the boot sector claims it. */
  volumeSize: number;
  clusterCount: number;
  mftLcn: number;
  mftMirrorLcn: number;
  mftRecordSize: number;
  indexRecordSize: number;
}

/** True when the 512 bytes look like an NTFS boot sector (OEM id "NTFS    "). */
export function isNtfsBootSector(sector: Uint8Array): boolean {
  if (sector.length < 512) return false;
  for (let i = 0; i < 8; i++) if (sector[3 + i] !== NTFS_OEM_ID.charCodeAt(i)) return false;
  return true;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** The clusters-per-record byte: 1..127 counts clusters; 0x80..0xFF is -n, meaning 2^n bytes. */
export function decodeRecordSizeByte(value: number, clusterSize: number): number {
  const signed = value > 127 ? value - 256 : value;
  if (signed < 0) return signed < -31 ? 0 : 2 ** -signed;
  return signed * clusterSize;
}

function bad(message: string, context: Record<string, unknown>): DiskkitError {
  return new DiskkitError(ErrorCode.BAD_MFT, `not a usable NTFS boot sector: ${message}`, { context });
}

/** Decodes and validates the boot sector; throws E_BAD_MFT when a field is impossible. */
export function decodeNtfsBootSector(sector: Uint8Array): NtfsGeometry {
  if (!isNtfsBootSector(sector)) throw bad('OEM id is not "NTFS    "', { field: 'oemId' });
  const raw = NtfsBootSector.decode(sector);
  if (!isPowerOfTwo(raw.bytesPerSector) || raw.bytesPerSector < 256 || raw.bytesPerSector > 4096) {
    throw bad(`bytes per sector ${raw.bytesPerSector}`, { field: 'bytesPerSector', value: raw.bytesPerSector });
  }
  // Values above 0x80 are a power-of-two exponent (clusters larger than 128 sectors).
  const spc = raw.sectorsPerCluster > 0x80 ? 2 ** (256 - raw.sectorsPerCluster) : raw.sectorsPerCluster;
  const clusterSize = spc * raw.bytesPerSector;
  if (!isPowerOfTwo(spc) || clusterSize > MAX_CLUSTER_SIZE) {
    throw bad(`sectors per cluster ${raw.sectorsPerCluster}`, { field: 'sectorsPerCluster', value: raw.sectorsPerCluster });
  }
  const mftRecordSize = decodeRecordSizeByte(raw.clustersPerMftRecord, clusterSize);
  if (!isPowerOfTwo(mftRecordSize) || mftRecordSize < MIN_RECORD_SIZE || mftRecordSize > MAX_RECORD_SIZE) {
    throw bad(`MFT record size ${mftRecordSize}`, { field: 'clustersPerMftRecord', value: raw.clustersPerMftRecord });
  }
  const indexRecordSize = decodeRecordSizeByte(raw.clustersPerIndexRecord, clusterSize);
  const volumeSize = raw.totalSectors * raw.bytesPerSector;
  const clusterCount = Math.floor(volumeSize / clusterSize);
  if (raw.mftLcn === 0 || raw.mftLcn >= clusterCount) {
    throw bad(`$MFT cluster ${raw.mftLcn} outside the volume (${clusterCount} clusters)`, { field: 'mftLcn', cluster: raw.mftLcn });
  }
  return {
    bytesPerSector: raw.bytesPerSector,
    clusterSize,
    totalSectors: raw.totalSectors,
    volumeSize,
    clusterCount,
    mftLcn: raw.mftLcn,
    mftMirrorLcn: raw.mftMirrorLcn,
    mftRecordSize,
    indexRecordSize,
  };
}

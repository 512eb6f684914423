/** Recognising an NTFS volume by its boot sector: the registry's probe (partition choice, mft index, fsck and mkfs refusals). */
import { readU16LE, readU64LE } from '../binary.js';
import { isNtfsBootSector } from './boot-sector.js';

/**
 * True when `sector` starts an NTFS volume: the OEM id plus a sane BPB (a FAT boot
 * sector with a stray OEM id is not taken for NTFS).
 */
export function startsNtfsVolume(sector: Uint8Array): boolean {
  if (!isNtfsBootSector(sector)) return false;
  if (readU16LE(sector, 510) !== 0xaa55) return false;
  const bytesPerSector = readU16LE(sector, 11);
  if (bytesPerSector < 256 || bytesPerSector > 4096 || (bytesPerSector & (bytesPerSector - 1)) !== 0) return false;
  // Sectors per cluster: a power of two up to 128, or 0xF4..0xFF meaning 2^(256 - value).
  const spc = sector[13]!;
  if (!(spc >= 0xf4 || (spc > 0 && spc <= 128 && (spc & (spc - 1)) === 0))) return false;
  let totalSectors: number;
  let mftCluster: number;
  try {
    totalSectors = readU64LE(sector, 40);
    mftCluster = readU64LE(sector, 48);
  } catch {
    return false;
  }
  if (totalSectors === 0 || mftCluster === 0) return false;
  const clusterBytes = spc >= 0xf4 ? 2 ** (256 - spc) : spc * bytesPerSector;
  // Only geometry is judged here; a truncated image is the volume's to report.
  return mftCluster * clusterBytes < (totalSectors + 1) * bytesPerSector;
}

/**
 * NTFS's registry entry until the NTFS volume (issue 10, section 3) lands: it
 * recognises NTFS volumes, so partition choice, `mft index` on partitioned disks,
 * `fsck` and `mkfs` know what they look at, and refuses to open them as volumes.
 * The NTFS volume replaces `open` (and this file) with the real reader.
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import type { FormatDefinition } from '../formats.js';
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

export const ntfsFormat: FormatDefinition = {
  name: 'ntfs',
  title: 'NTFS (read-only)',
  capabilities: ['read'],
  probe: (head) => head.length >= 512 && startsNtfsVolume(head.subarray(0, 512)),
  open: (source) => {
    throw new DiskkitError(ErrorCode.UNSUPPORTED, 'NTFS volumes are not supported by this command yet', { context: { image: source.name }, hint: "'diskkit mft index' lists every file of an NTFS volume" });
  },
};

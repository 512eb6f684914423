/** A FAT volume's `info`: its fields (all kept in --json) and the lines `diskkit info` prints, in order (the command knows no FAT fields). */
import type { InfoDetail, VolumeInfo } from '../volume.js';
import { formatBytesExact } from '../byte-size.js';

export interface FatVolumeInfo extends VolumeInfo {
  format: 'fat';
  fatType: 'FAT12' | 'FAT16' | 'FAT32';
  /** Size of the volume as the boot sector declares it. */
  volumeBytes: number;
  bytesPerSector: number;
  sectorsPerCluster: number;
  bytesPerCluster: number;
  reservedSectors: number;
  numberOfFats: number;
  sectorsPerFat: number;
  totalSectors: number;
  hiddenSectors: number;
  media: number;
  rootDirectory: { sector: number; entries: number } | { cluster: number };
  firstDataSector: number;
  clusters: { total: number; free: number; used: number };
  /** The label in the root directory, else the boot sector's. */
  label: string | null;
  bootSectorLabel: string | null;
  /** "XXXX-XXXX" as DOS shows it, or null when the boot sector has none. */
  volumeId: string | null;
  oemName: string;
  /** FAT32 FSInfo hints as stored (they may be stale; free counts above come from the FAT). */
  fsInfo: { freeCount: number | null; nextFree: number | null } | null;
}

/** `1 sector`, `2 sectors`: counts agree with their nouns. */
function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

export function fatInfoDetails(i: FatVolumeInfo): InfoDetail[] {
  const root = 'cluster' in i.rootDirectory ? `cluster ${i.rootDirectory.cluster}` : `sector ${i.rootDirectory.sector}, ${count(i.rootDirectory.entries, 'entry', 'entries')}`;
  const lines: InfoDetail[] = [
    { label: 'format', value: i.fatType },
    { label: 'label', value: i.label ?? '(none)' },
    { label: 'volume id', value: i.volumeId ?? '(none)' },
    { label: 'OEM name', value: i.oemName },
    { label: 'volume size', value: formatBytesExact(i.volumeBytes) },
    { label: 'sector size', value: `${i.bytesPerSector} bytes` },
    { label: 'cluster size', value: `${count(i.bytesPerCluster, 'byte')} (${count(i.sectorsPerCluster, 'sector')})` },
    { label: 'reserved sectors', value: String(i.reservedSectors) },
    { label: 'FATs', value: `${i.numberOfFats} × ${count(i.sectorsPerFat, 'sector')}` },
    { label: 'root directory', value: root },
    { label: 'first data sector', value: String(i.firstDataSector) },
    { label: 'clusters', value: `${i.clusters.total} total, ${i.clusters.used} used, ${i.clusters.free} free` },
    { label: 'data size', value: formatBytesExact(i.totalBytes) },
    { label: 'used', value: formatBytesExact(i.usedBytes) },
    { label: 'free', value: formatBytesExact(i.freeBytes) },
  ];
  if (i.fsInfo) lines.push({ label: 'FSInfo hints', value: `free ${i.fsInfo.freeCount ?? 'unknown'}, next free ${i.fsInfo.nextFree ?? 'unknown'}` });
  return lines;
}

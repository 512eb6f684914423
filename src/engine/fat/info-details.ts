/** The lines `diskkit info` prints for a FAT volume, in order (the command knows no FAT fields). */
import type { InfoDetail } from '../volume.js';
import { formatBytesExact } from '../byte-size.js';
import type { FatVolumeInfo } from './volume.js';

export function fatInfoDetails(i: FatVolumeInfo): InfoDetail[] {
  const root = 'cluster' in i.rootDirectory ? `cluster ${i.rootDirectory.cluster}` : `sector ${i.rootDirectory.sector}, ${i.rootDirectory.entries} entries`;
  const lines: InfoDetail[] = [
    { label: 'type', value: i.fatType },
    { label: 'label', value: i.label ?? '(none)' },
    { label: 'volume id', value: i.volumeId ?? '(none)' },
    { label: 'OEM name', value: i.oemName },
    { label: 'volume size', value: formatBytesExact(i.volumeBytes) },
    { label: 'sector size', value: `${i.bytesPerSector} bytes` },
    { label: 'cluster size', value: `${i.bytesPerCluster} bytes (${i.sectorsPerCluster} sectors)` },
    { label: 'reserved sectors', value: String(i.reservedSectors) },
    { label: 'FATs', value: `${i.numberOfFats} × ${i.sectorsPerFat} sectors` },
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

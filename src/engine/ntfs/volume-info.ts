/**
 * `info` for an NTFS volume: the label ($Volume's $VOLUME_NAME), the NTFS version
 * and flags ($VOLUME_INFORMATION), the serial number (boot sector 0x48), and the
 * used and free space counted in $Bitmap (record 6, one bit per cluster).
 */
import { readBytes, type BlockSource } from '../../io/block-source.js';
import type { VolumeInfo } from '../volume.js';
import { formatBytes } from '../byte-size.js';
import { AttributeType, decodeUtf16Name } from './attributes/attribute-header.js';
import type { NtfsGeometry } from './boot-sector.js';
import { openDataStream, type FileRecord } from './file-record.js';
import type { VolumeGeometry } from './stream-reader.js';

export const VOLUME_RECORD = 3;
export const BITMAP_RECORD = 6;

/** Bytes of $Bitmap counted per read. */
const BITMAP_CHUNK = 1 << 20;

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >>> 1]!;

/** Clusters in use according to $Bitmap (bits past the last cluster are ignored). */
export function countUsedClusters(geometry: VolumeGeometry, bitmapFile: FileRecord, clusterCount: number): number {
  const stream = openDataStream(geometry, bitmapFile, '');
  if (!stream) return NaN;
  const bytes = Math.min(stream.size, Math.ceil(clusterCount / 8));
  const chunk = new Uint8Array(Math.min(BITMAP_CHUNK, Math.max(bytes, 1)));
  let used = 0;
  for (let at = 0; at < bytes; at += chunk.length) {
    const n = Math.min(chunk.length, bytes - at);
    stream.read(chunk, n, at);
    const lastByte = at + n === bytes && clusterCount % 8 !== 0 ? n - 1 : n;
    for (let i = 0; i < lastByte; i++) used += POPCOUNT[chunk[i]!]!;
    if (lastByte < n) used += POPCOUNT[chunk[n - 1]! & ((1 << (clusterCount % 8)) - 1)]!;
  }
  return used;
}

export function describeVolume(source: BlockSource, geometry: NtfsGeometry, volumeFile: FileRecord | null, usedClusters: number, mftBytes: number): VolumeInfo {
  let label: string | null = null;
  let version = 'unknown';
  let flags = 0;
  for (const a of volumeFile?.attributes ?? []) {
    if (a.type === AttributeType.VOLUME_NAME && a.value) label = decodeUtf16Name(a.value, 0, a.value.length >>> 1);
    if (a.type === AttributeType.VOLUME_INFORMATION && a.value && a.value.length >= 12) {
      version = `${a.value[8]}.${a.value[9]}`;
      flags = a.value[10]! | (a.value[11]! << 8);
    }
  }
  const serialBytes = readBytes(source, 0x48, 8);
  const serial = Buffer.from(serialBytes).reverse().toString('hex').toUpperCase();
  const totalBytes = geometry.clusterCount * geometry.clusterSize;
  const usedBytes = Number.isFinite(usedClusters) ? usedClusters * geometry.clusterSize : 0;
  const freeBytes = totalBytes - usedBytes;
  return {
    format: 'ntfs',
    totalBytes,
    freeBytes,
    usedBytes,
    label: label === '' ? null : label,
    ntfsVersion: version,
    serialNumber: serial,
    volumeFlags: flags,
    bytesPerSector: geometry.bytesPerSector,
    clusterSize: geometry.clusterSize,
    clusterCount: geometry.clusterCount,
    mftRecordSize: geometry.mftRecordSize,
    indexRecordSize: geometry.indexRecordSize,
    mftCluster: geometry.mftLcn,
    mftMirrorCluster: geometry.mftMirrorLcn,
    mftBytes,
    details: [
      { label: 'format', value: `NTFS ${version} (read-only)` },
      { label: 'label', value: label ?? '(none)' },
      { label: 'serial number', value: serial },
      { label: 'size', value: `${formatBytes(totalBytes)} (${geometry.clusterCount} clusters of ${geometry.clusterSize} bytes)` },
      { label: 'used', value: formatBytes(usedBytes) },
      { label: 'free', value: formatBytes(freeBytes) },
      { label: 'sector size', value: `${geometry.bytesPerSector} bytes` },
      { label: 'MFT record size', value: `${geometry.mftRecordSize} bytes` },
      { label: 'index block size', value: `${geometry.indexRecordSize} bytes` },
      { label: 'MFT', value: `cluster ${geometry.mftLcn}, ${formatBytes(mftBytes)}` },
      { label: 'MFT mirror', value: `cluster ${geometry.mftMirrorLcn}` },
      { label: 'volume flags', value: `0x${flags.toString(16).padStart(4, '0')}${flags & 1 ? ' (dirty)' : ''}` },
    ],
  };
}

/**
 * FAT's mkfs hook: what `diskkit mkfs` asks of the format once the command has parsed
 * its options. `plan` validates everything and settles the size before a file is
 * created (so a refused layout leaves nothing behind); `format` lays the file system
 * down on the opened target and describes what it made, for --json and for people.
 */
import type { BlockSource } from '../../io/block-source.js';
import { formatBytes } from '../byte-size.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import type { MkfsOutcome, MkfsRequest } from '../formats.js';
import { summarizeHostTree } from '../host-tree.js';
import { planFatLayout, type FatLayout } from './layout.js';
import { derivedVolumeId, formatFat, formatVolumeId, parseVolumeId, randomVolumeId, validateVolumeLabel } from './mkfs.js';
import { autoVolumeSize } from './tree-size.js';

/** Label-entry time for --invariant without SOURCE_DATE_EPOCH: 2000-01-01 00:00:00 UTC. */
const INVARIANT_EPOCH = 946684800;

function usage(message: string): DiskkitError {
  return new DiskkitError(ErrorCode.USAGE, message);
}

function fatType(variant: string | undefined): 'fat12' | 'fat16' | 'fat32' | undefined {
  if (variant === undefined || variant.toLowerCase() === 'fat') return undefined;
  const t = variant.toLowerCase().replace(/^fat/, '');
  if (t === '12' || t === '16' || t === '32') return `fat${t}`;
  throw usage(`--type must be fat12, fat16 or fat32, not '${variant}'`);
}

function layoutRequest(request: MkfsRequest) {
  return { bytesPerSector: request.sectorSize, fatType: fatType(request.variant), bytesPerCluster: request.clusterSize, numberOfFats: request.tableCopies };
}

/**
 * Checks the options (type, label, volume id, layout) and returns the volume size:
 * the one asked for, or with `from` and no size, the smallest that holds the tree
 * plus the headroom. Undefined means "the target's own size" (--force, partitions).
 */
export function planFatMkfs(request: MkfsRequest): number | undefined {
  const base = layoutRequest(request);
  validateVolumeLabel(request.label);
  if (request.volumeId !== undefined) parseVolumeId(request.volumeId);
  let size = request.size;
  if (size === undefined && request.from !== undefined) {
    const tree = summarizeHostTree(request.from.dir);
    try {
      size = autoVolumeSize(tree, base, planFatLayout, request.from.headroom, request.label !== '');
    } catch {
      throw usage(`no ${base.fatType ?? 'FAT'} layout with these options holds '${request.from.dir}'`);
    }
  }
  if (size !== undefined) planFatLayout({ ...base, volumeBytes: size });
  return size;
}

/** Formats `target` (a whole image, or a partition starting at byte `start` of its disk). */
export function formatFatTarget(target: { source: BlockSource; volumeBytes: number; start: number; fresh: boolean }, request: MkfsRequest): MkfsOutcome {
  const base = layoutRequest(request);
  const label = validateVolumeLabel(request.label);
  const layout: FatLayout = planFatLayout({ ...base, volumeBytes: target.volumeBytes });
  const hiddenSectors = target.start / request.sectorSize;
  if (!Number.isInteger(hiddenSectors)) {
    throw usage(`partition ${request.partition} starts at byte ${target.start}, not on a ${request.sectorSize}-byte sector boundary`);
  }
  const epoch = request.epoch ?? INVARIANT_EPOCH;
  const when = request.reproducible ? new Date(epoch * 1000) : new Date();
  const volumeId =
    (request.volumeId === undefined ? undefined : parseVolumeId(request.volumeId)) ??
    (request.reproducible
      ? derivedVolumeId([epoch, layout.fatType, layout.totalSectors, layout.bytesPerSector, layout.sectorsPerCluster, label.label ?? '', hiddenSectors].join('|'))
      : randomVolumeId());
  const result = formatFat(target.source, { layout, label: label.label, volumeId, timestamp: when, utc: request.reproducible, hiddenSectors, fresh: target.fresh });

  const l = result.layout;
  const warnings: string[] = [];
  if (label.upperCased) warnings.push(`label stored in upper case as '${label.label}' (FAT labels cannot hold lower case)`);
  for (const w of result.warnings) warnings.push(w.message);
  const fats = `${l.numberOfFats} FAT${l.numberOfFats > 1 ? 's' : ''} of ${l.sectorsPerFat} sectors`;
  const root = l.fatType === 'fat32' ? 'root directory in cluster 2' : `${l.rootEntryCount} root entries`;
  const summary =
    `${l.fatType.toUpperCase()}, ${formatBytes(l.totalSectors * l.bytesPerSector)} (${l.totalSectors} sectors of ${l.bytesPerSector} bytes), ` +
    `${l.clusterCount} clusters of ${formatBytes(l.bytesPerCluster)}, ${fats}, ${root}, ` +
    `volume id ${formatVolumeId(result.volumeId)}${result.label ? `, label ${result.label}` : ''}`;
  const fields = {
    fatType: l.fatType,
    volumeBytes: l.totalSectors * l.bytesPerSector,
    bytesPerSector: l.bytesPerSector,
    sectorsPerCluster: l.sectorsPerCluster,
    bytesPerCluster: l.bytesPerCluster,
    reservedSectors: l.reservedSectors,
    numberOfFats: l.numberOfFats,
    sectorsPerFat: l.sectorsPerFat,
    rootEntryCount: l.rootEntryCount,
    totalSectors: l.totalSectors,
    hiddenSectors: result.hiddenSectors,
    media: l.media,
    sectorsPerTrack: l.sectorsPerTrack,
    numberOfHeads: l.numberOfHeads,
    driveNumber: l.driveNumber,
    clusterCount: l.clusterCount,
    firstDataSector: l.firstDataSector,
    dataOffset: l.firstDataSector * l.bytesPerSector,
    rootCluster: l.fatType === 'fat32' ? l.rootCluster : null,
    aligned: l.aligned,
    volumeId: formatVolumeId(result.volumeId),
    label: result.label,
    labelUpperCased: label.upperCased,
    reproducible: request.reproducible,
    formattedInPlace: !target.fresh,
    bytesWritten: result.bytesWritten,
    warnings: result.warnings,
  };
  return { fields, summary, warnings };
}

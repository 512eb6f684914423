/**
 * Choosing the layout of a new FAT volume: FAT type, cluster size, reserved sectors,
 * FAT size, root directory size, media byte and CHS geometry.
 *
 * Without an explicit type or cluster size the choice reproduces what mkfs.fat
 * (dosfstools 4.2) picks for the same volume size, so an image made by diskkit has
 * the same BPB as one made by mkfs.fat. The rules, as observed in that tool and
 * checked against its output:
 * - FAT32 from 512 MiB up; below, FAT12 or FAT16 — whichever yields more clusters at
 *   the smallest cluster size (from 4 sectors, doubling) that fits either.
 * - FAT32 cluster size from fatgen103's table, expressed in sectors:
 *   ≤ 260 MiB 1, ≤ 8 GiB 8, ≤ 16 GiB 16, ≤ 32 GiB 32, above 64 sectors.
 * - Floppy sizes (360K, 720K, 1200K, 1440K, 2880K) get the classic floppy geometry.
 * - Total sectors rounded down to a whole number of tracks; reserved sectors, each FAT
 *   and the root directory rounded up to whole clusters (so the data region starts
 *   cluster-aligned), unless the volume is 8192 sectors or less.
 * - FAT16 needs at least 4087 clusters (fatgen103 section 3.5 says 4085; two more keep
 *   clear of drivers that miscount by two); FAT32 at least 65525.
 *
 * Deliberate differences from mkfs.fat: clusters are never larger than 64 KiB (with
 * 2048- or 4096-byte sectors mkfs.fat's sector-based table can give 128–512 KiB
 * clusters, which Windows refuses to mount), and FAT32 with fewer than 65525 clusters
 * is refused rather than made with a warning (every FAT driver would take it for FAT16).
 */
import { formatBytes } from '../byte-size.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { FAT12_MAX_CLUSTERS, FAT16_MAX_CLUSTERS, FAT32_MAX_CLUSTERS, type FatType } from './boot-sector.js';

/** Fewest clusters a FAT16 volume may have (see the module comment). */
export const FAT16_MIN_CLUSTERS = 4087;
/** Fewest clusters a FAT32 volume may have (fatgen103 section 3.5). */
export const FAT32_MIN_CLUSTERS = 65525;
/**
 * Most clusters a FAT32 volume may have: the highest cluster number (count + 1) must
 * stay below the bad-cluster mark 0x0FFFFFF7. (mkfs.fat allows one more.)
 */
export const FAT32_LAYOUT_MAX_CLUSTERS = FAT32_MAX_CLUSTERS;
/** Largest cluster fatgen103 calls valid (section 3.1, BPB_SecPerClus). */
export const MAX_PORTABLE_CLUSTER_BYTES = 32 * 1024;
/** Largest cluster diskkit makes: Windows NT and Linux read 64 KiB clusters, nothing reads more. */
export const MAX_CLUSTER_BYTES = 64 * 1024;
/** FAT32 volumes are chosen automatically from this size up. */
export const FAT32_AUTO_THRESHOLD_BYTES = 512 * 1024 * 1024;
export const SECTOR_SIZES = [512, 1024, 2048, 4096] as const;
/** Largest number of sectors a BPB can count (BPB_TotSec32). */
const MAX_TOTAL_SECTORS = 0xffffffff;
/** Volumes this small (in sectors) are not aligned: alignment would waste too much. */
const ALIGNMENT_MIN_SECTORS = 8192;

export interface LayoutRequest {
  /** Bytes available for the volume (the image or partition size). */
  volumeBytes: number;
  bytesPerSector?: number;
  /** Forces the FAT type; otherwise chosen as mkfs.fat does. */
  fatType?: FatType;
  /** Forces the cluster size in bytes; otherwise chosen as mkfs.fat does. */
  bytesPerCluster?: number;
  numberOfFats?: number;
}

/** A complete layout: every BPB field mkfs needs, and the geometry derived from them. */
export interface FatLayout {
  fatType: FatType;
  bytesPerSector: number;
  sectorsPerCluster: number;
  bytesPerCluster: number;
  reservedSectors: number;
  numberOfFats: number;
  /** Fixed root directory entries (0 on FAT32). */
  rootEntryCount: number;
  rootDirSectors: number;
  sectorsPerFat: number;
  totalSectors: number;
  media: number;
  sectorsPerTrack: number;
  numberOfHeads: number;
  /** BIOS drive number: 0x80 for hard disks (media 0xF8), 0 for floppies. */
  driveNumber: number;
  clusterCount: number;
  firstFatSector: number;
  /** First sector of the fixed root directory (FAT12/16), 0 on FAT32. */
  rootDirSector: number;
  firstDataSector: number;
  /** FAT32: the root directory's first cluster (2), 0 otherwise. */
  rootCluster: number;
  /** FAT32: FSInfo and backup boot sector numbers, 0 otherwise. */
  fsInfoSector: number;
  backupBootSector: number;
  /** Whether structures were aligned to clusters (false for volumes of ≤ 8192 sectors). */
  aligned: boolean;
  /** Notes for the user (compatibility caveats, unused space). */
  notes: string[];
}

interface Geometry {
  sectorsPerTrack: number;
  numberOfHeads: number;
  media: number;
  /** Sectors per cluster to start the FAT12/16 search from. */
  startSectorsPerCluster: number;
  rootEntryCount: number;
}

/** Classic floppy formats, keyed by size in KiB. */
const FLOPPIES: Record<number, Geometry> = {
  360: { sectorsPerTrack: 9, numberOfHeads: 2, media: 0xfd, startSectorsPerCluster: 2, rootEntryCount: 112 },
  720: { sectorsPerTrack: 9, numberOfHeads: 2, media: 0xf9, startSectorsPerCluster: 2, rootEntryCount: 112 },
  1200: { sectorsPerTrack: 15, numberOfHeads: 2, media: 0xf9, startSectorsPerCluster: 1, rootEntryCount: 224 },
  1440: { sectorsPerTrack: 18, numberOfHeads: 2, media: 0xf0, startSectorsPerCluster: 1, rootEntryCount: 224 },
  2880: { sectorsPerTrack: 36, numberOfHeads: 2, media: 0xf0, startSectorsPerCluster: 2, rootEntryCount: 224 },
};

/**
 * CHS geometry for an image with no real one. Up to 524288 sectors: the SD card
 * file-system recommendation; above: the BIOS LBA-assist translation (63 sectors per
 * track, heads doubling from 16 to 255).
 */
function geometryFor(volumeBytes: number, bytesPerSector: number): Geometry {
  const floppy = FLOPPIES[Math.floor(volumeBytes / 1024)];
  if (floppy) return floppy;
  const sectors = Math.floor(volumeBytes / bytesPerSector);
  let sectorsPerTrack: number;
  let numberOfHeads: number;
  if (sectors <= 524288) {
    numberOfHeads = sectors <= 32768 ? 2 : sectors <= 65536 ? 4 : sectors <= 262144 ? 8 : 16;
    sectorsPerTrack = sectors <= 4096 ? 16 : 32;
  } else {
    const cylinders = 63 * 1024;
    numberOfHeads = sectors <= 16 * cylinders ? 16 : sectors <= 32 * cylinders ? 32 : sectors <= 64 * cylinders ? 64 : sectors <= 128 * cylinders ? 128 : 255;
    sectorsPerTrack = 63;
  }
  return { sectorsPerTrack, numberOfHeads, media: 0xf8, startSectorsPerCluster: 4, rootEntryCount: 512 };
}

/** fatgen103's FAT32 cluster-size table, as mkfs.fat applies it: counted in sectors. */
function fat32SectorsPerCluster(volumeBytes: number, bytesPerSector: number): number {
  const sectors = Math.floor(volumeBytes / bytesPerSector);
  const mi = 1024 * 1024;
  const chosen = sectors > 64 * mi ? 64 : sectors > 32 * mi ? 32 : sectors > 16 * mi ? 16 : sectors > 260 * 2048 ? 8 : 1;
  return Math.min(chosen, MAX_CLUSTER_BYTES / bytesPerSector);
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** Why a (type, cluster size) pair does not fit. */
export type FitFailure = 'too-many-clusters' | 'too-few-clusters' | 'too-small';

interface Fit {
  clusterCount: number;
  sectorsPerFat: number;
  failure: FitFailure | null;
}

interface FitContext {
  totalSectors: number;
  bytesPerSector: number;
  reservedSectors: number;
  rootDirSectors: number;
  numberOfFats: number;
  aligned: boolean;
}

/**
 * Sizes the FAT for one type and cluster size: estimate the cluster count from the
 * sectors left after the reserved area (and root directory), size the FAT for it,
 * then recount the clusters that really fit beside that FAT.
 */
function fitFat(type: FatType, spc: number, c: FitContext): Fit {
  const align = (sectors: number) => (c.aligned ? ceilDiv(sectors, spc) * spc : sectors);
  const ss = c.bytesPerSector;
  const nf = c.numberOfFats;
  const fatAndData = c.totalSectors - align(c.reservedSectors) - (type === 'fat32' ? 0 : align(c.rootDirSectors));
  if (fatAndData <= 0) return { clusterCount: 0, sectorsPerFat: 0, failure: 'too-small' };
  let estimate: number;
  let fatBytesFor: (clusters: number) => number;
  let entriesPerFat: (sectorsPerFat: number) => number;
  let limit: number;
  let minimum: number;
  if (type === 'fat12') {
    // 1.5 bytes per entry; doubled to stay in integers, "+ 3" per FAT for entries 0 and 1.
    estimate = Math.floor((2 * (fatAndData * ss + nf * 3)) / (2 * spc * ss + nf * 3));
    fatBytesFor = (n) => ((n + 2) * 3 + 1) >> 1;
    entriesPerFat = (s) => Math.floor((s * 2 * ss) / 3);
    limit = FAT12_MAX_CLUSTERS;
    minimum = 1;
  } else if (type === 'fat16') {
    estimate = Math.floor((fatAndData * ss + nf * 4) / (spc * ss + nf * 2));
    fatBytesFor = (n) => (n + 2) * 2;
    entriesPerFat = (s) => Math.floor((s * ss) / 2);
    limit = FAT16_MAX_CLUSTERS;
    minimum = FAT16_MIN_CLUSTERS;
  } else {
    estimate = Math.floor((fatAndData * ss + nf * 8) / (spc * ss + nf * 4));
    fatBytesFor = (n) => (n + 2) * 4;
    entriesPerFat = (s) => Math.floor((s * ss) / 4);
    limit = FAT32_LAYOUT_MAX_CLUSTERS;
    minimum = FAT32_MIN_CLUSTERS;
  }
  const sectorsPerFat = align(ceilDiv(fatBytesFor(estimate), ss));
  const clusterCount = Math.floor((fatAndData - nf * sectorsPerFat) / spc);
  if (clusterCount <= 0) return { clusterCount: 0, sectorsPerFat, failure: 'too-small' };
  if (clusterCount > Math.min(entriesPerFat(sectorsPerFat), limit)) return { clusterCount, sectorsPerFat, failure: 'too-many-clusters' };
  if (clusterCount < minimum) return { clusterCount, sectorsPerFat, failure: 'too-few-clusters' };
  return { clusterCount, sectorsPerFat, failure: null };
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function usage(message: string, context: Record<string, unknown>, hint?: string): DiskkitError {
  return new DiskkitError(ErrorCode.USAGE, message, { context, hint });
}

export { formatBytes };

interface Attempt {
  layout: FatLayout | null;
  /** The last fit tried, for the error message. */
  failure: { type: FatType; sectorsPerCluster: number; fit: Fit } | null;
}

/** Validates the request's numbers (not yet whether they make a volume). */
function validateRequest(request: LayoutRequest): { bytesPerSector: number; numberOfFats: number } {
  const bytesPerSector = request.bytesPerSector ?? 512;
  if (!(SECTOR_SIZES as readonly number[]).includes(bytesPerSector)) {
    throw usage(`sector size ${bytesPerSector} is not supported`, { field: 'sectorSize', value: bytesPerSector }, 'use 512, 1024, 2048 or 4096');
  }
  const numberOfFats = request.numberOfFats ?? 2;
  if (numberOfFats !== 1 && numberOfFats !== 2) throw usage(`--fats must be 1 or 2, not ${numberOfFats}`, { field: 'fats', value: numberOfFats });
  if (!Number.isSafeInteger(request.volumeBytes) || request.volumeBytes <= 0) {
    throw usage(`volume size ${request.volumeBytes} is not a positive whole number of bytes`, { field: 'size', value: request.volumeBytes });
  }
  const bpc = request.bytesPerCluster;
  if (bpc !== undefined) {
    if (!isPowerOfTwo(bpc) || bpc < bytesPerSector) {
      throw usage(`cluster size ${bpc} must be a power of two of at least the sector size (${bytesPerSector})`, { field: 'clusterSize', value: bpc });
    }
    if (bpc > MAX_CLUSTER_BYTES) {
      throw usage(`cluster size ${formatBytes(bpc)} is too large: FAT drivers accept at most 64 KiB (32 KiB for full compatibility)`, { field: 'clusterSize', value: bpc }, 'use --cluster-size 32768 or less');
    }
  }
  return { bytesPerSector, numberOfFats };
}

function attemptLayout(request: LayoutRequest): Attempt {
  const { bytesPerSector, numberOfFats } = validateRequest(request);
  const notes: string[] = [];
  const geometry = geometryFor(request.volumeBytes, bytesPerSector);
  const fatType: FatType | undefined = request.fatType ?? (request.volumeBytes >= FAT32_AUTO_THRESHOLD_BYTES ? 'fat32' : undefined);
  let startSpc = fatType === 'fat32' ? fat32SectorsPerCluster(request.volumeBytes, bytesPerSector) : geometry.startSectorsPerCluster;
  let maxSpc = MAX_CLUSTER_BYTES / bytesPerSector;
  if (request.bytesPerCluster !== undefined) startSpc = maxSpc = request.bytesPerCluster / bytesPerSector;
  startSpc = Math.min(startSpc, maxSpc);

  let rawSectors = Math.floor(request.volumeBytes / bytesPerSector);
  if (rawSectors > MAX_TOTAL_SECTORS) {
    notes.push(`a FAT volume counts at most ${MAX_TOTAL_SECTORS} sectors: the last ${formatBytes((rawSectors - MAX_TOTAL_SECTORS) * bytesPerSector)} stay unused (a larger --sector-size reaches further)`);
    rawSectors = MAX_TOTAL_SECTORS;
  }
  // Whole tracks only: DOS and mtools expect it.
  const totalSectors = Math.floor(rawSectors / geometry.sectorsPerTrack) * geometry.sectorsPerTrack;
  const aligned = totalSectors > ALIGNMENT_MIN_SECTORS;
  const rootEntryCount = fatType === 'fat32' ? 0 : geometry.rootEntryCount;
  const context: FitContext = {
    totalSectors,
    bytesPerSector,
    reservedSectors: fatType === 'fat32' ? 32 : 1,
    rootDirSectors: ceilDiv(rootEntryCount * 32, bytesPerSector),
    numberOfFats,
    aligned,
  };

  // Clusters shrink in number as they grow in size: the first failure is the one with
  // the most clusters (best to explain "too few"), the last the one with the fewest.
  let firstFailure: Attempt['failure'] = null;
  let failure: Attempt['failure'] = null;
  for (let spc = startSpc; spc <= maxSpc; spc *= 2) {
    const candidates: FatType[] = fatType ? [fatType] : ['fat12', 'fat16'];
    const fits = candidates.map((type) => ({ type, fit: fitFat(type, spc, context) }));
    const good = fits.filter((f) => f.fit.failure === null);
    if (good.length === 0) {
      failure = { type: fits[fits.length - 1]!.type, sectorsPerCluster: spc, fit: fits[fits.length - 1]!.fit };
      // FAT12 failing for too many clusters says more than FAT16 failing for too few.
      if (!fatType && fits[1]!.fit.failure === 'too-few-clusters') failure = { type: 'fat12', sectorsPerCluster: spc, fit: fits[0]!.fit };
      firstFailure ??= failure;
      continue;
    }
    // With both possible, keep the one with more clusters (ties go to FAT12).
    const best = good.reduce((a, b) => (b.fit.clusterCount > a.fit.clusterCount ? b : a));
    const layout = finishLayout(best.type, spc, best.fit, context, geometry, notes);
    // mkfs.fat's floor: the metadata plus 32 KiB of data must fit.
    const dataStartKiB = Math.ceil((layout.firstDataSector * bytesPerSector) / 1024);
    if (Math.floor(request.volumeBytes / 1024) < dataStartKiB + 32) {
      return { layout: null, failure: { type: best.type, sectorsPerCluster: spc, fit: { ...best.fit, failure: 'too-small' } } };
    }
    return { layout, failure: null };
  }
  return { layout: null, failure: failure?.fit.failure === 'too-many-clusters' ? failure : firstFailure };
}

function finishLayout(type: FatType, spc: number, fit: Fit, c: FitContext, geometry: Geometry, notes: string[]): FatLayout {
  const align = (sectors: number) => (c.aligned ? ceilDiv(sectors, spc) * spc : sectors);
  const reservedSectors = align(c.reservedSectors);
  // The fixed root directory grows to fill its aligned space rather than leave a gap.
  const rootDirSectors = type === 'fat32' ? 0 : align(c.rootDirSectors);
  const rootEntryCount = type === 'fat32' ? 0 : c.aligned ? (rootDirSectors * c.bytesPerSector) / 32 : geometry.rootEntryCount;
  const rootDirSector = reservedSectors + c.numberOfFats * fit.sectorsPerFat;
  const bytesPerCluster = spc * c.bytesPerSector;
  if (bytesPerCluster > MAX_PORTABLE_CLUSTER_BYTES) {
    notes.push(`${formatBytes(bytesPerCluster)} clusters: Windows NT and later, macOS and Linux read them; MS-DOS, Windows 9x and many cameras and firmware do not (fatgen103 allows 32 KiB at most)`);
  }
  return {
    fatType: type,
    bytesPerSector: c.bytesPerSector,
    sectorsPerCluster: spc,
    bytesPerCluster,
    reservedSectors,
    numberOfFats: c.numberOfFats,
    rootEntryCount,
    rootDirSectors: ceilDiv(rootEntryCount * 32, c.bytesPerSector),
    sectorsPerFat: fit.sectorsPerFat,
    totalSectors: c.totalSectors,
    media: geometry.media,
    sectorsPerTrack: geometry.sectorsPerTrack,
    numberOfHeads: geometry.numberOfHeads,
    driveNumber: geometry.media === 0xf8 ? 0x80 : 0,
    clusterCount: fit.clusterCount,
    firstFatSector: reservedSectors,
    rootDirSector: type === 'fat32' ? 0 : rootDirSector,
    firstDataSector: rootDirSector + rootDirSectors,
    rootCluster: type === 'fat32' ? 2 : 0,
    fsInfoSector: type === 'fat32' ? 1 : 0,
    backupBootSector: type === 'fat32' ? 6 : 0,
    aligned: c.aligned,
    notes,
  };
}

/** Every (type, cluster size) that works for this size and sector size, for "what would work" hints. */
export function workingAlternatives(request: LayoutRequest): { fatType: FatType; clusterBytes: number[] }[] {
  const out: { fatType: FatType; clusterBytes: number[] }[] = [];
  const bytesPerSector = request.bytesPerSector ?? 512;
  for (const fatType of ['fat12', 'fat16', 'fat32'] as const) {
    const clusterBytes: number[] = [];
    for (let bpc = bytesPerSector; bpc <= MAX_CLUSTER_BYTES; bpc *= 2) {
      const attempt = attemptLayout({ ...request, fatType, bytesPerCluster: bpc });
      if (attempt.layout && attempt.layout.fatType === fatType) clusterBytes.push(bpc);
    }
    if (clusterBytes.length) out.push({ fatType, clusterBytes });
  }
  return out;
}

/** The smallest volume (to 1 KiB) that would hold the requested type, or null past 16 TiB. */
function smallestWorkingSize(request: LayoutRequest): number | null {
  const works = (kib: number) => attemptLayout({ ...request, volumeBytes: kib * 1024 }).layout !== null;
  let high = 64;
  while (!works(high)) {
    high *= 2;
    if (high > 2 ** 34) return null;
  }
  let low = high / 2;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (works(mid)) high = mid;
    else low = mid;
  }
  return high * 1024;
}

function describeAlternatives(request: LayoutRequest): string {
  const options = workingAlternatives(request).map(({ fatType, clusterBytes }) => {
    const range = clusterBytes.length === 1 ? `${clusterBytes[0]}` : `${clusterBytes[0]}..${clusterBytes[clusterBytes.length - 1]}`;
    return `--type ${fatType} with --cluster-size ${range}`;
  });
  const parts: string[] = [];
  if (options.length) parts.push(`at ${formatBytes(request.volumeBytes)} these work: ${options.join('; ')}`);
  const smallest = smallestWorkingSize(request);
  if (smallest !== null && smallest > request.volumeBytes) {
    const explicit = request.fatType !== undefined || request.bytesPerCluster !== undefined;
    parts.push(`${parts.length ? 'or ' : ''}${explicit ? 'keep these options with' : 'use'} --size ${Math.ceil(smallest / 1024)}K or more`);
  }
  return parts.join(', ') || 'no FAT layout fits this size';
}

/**
 * Chooses the layout of a new FAT volume. Throws E_USAGE, with a hint naming what
 * would work, when the request cannot make a valid FAT volume.
 */
export function planFatLayout(request: LayoutRequest): FatLayout {
  const attempt = attemptLayout(request);
  if (attempt.layout) return attempt.layout;
  const size = formatBytes(request.volumeBytes);
  const failure = attempt.failure;
  const hint = describeAlternatives(request);
  const context = { field: 'size', value: request.volumeBytes, fatType: failure?.type ?? request.fatType, clusterCount: failure?.fit.clusterCount };
  if (!failure || failure.fit.failure === 'too-small') {
    throw usage(`${size} is too small for a FAT file system${request.fatType ? ` of type ${request.fatType.toUpperCase()}` : ''}`, context, hint);
  }
  const { type, sectorsPerCluster, fit } = failure;
  const clusterBytes = sectorsPerCluster * (request.bytesPerSector ?? 512);
  const cluster = clusterBytes < 1024 ? `${clusterBytes}-byte` : formatBytes(clusterBytes);
  const name = type.toUpperCase();
  if (fit.failure === 'too-few-clusters') {
    const minimum = type === 'fat32' ? FAT32_MIN_CLUSTERS : FAT16_MIN_CLUSTERS;
    throw usage(`${name} needs at least ${minimum} clusters, but ${size} with ${cluster} clusters gives ${fit.clusterCount} (drivers would take it for ${type === 'fat32' ? 'FAT16' : 'FAT12'})`, context, hint);
  }
  const maximum = type === 'fat12' ? FAT12_MAX_CLUSTERS : type === 'fat16' ? FAT16_MAX_CLUSTERS : FAT32_LAYOUT_MAX_CLUSTERS;
  const largest = request.bytesPerCluster === undefined ? ` even with ${cluster} clusters` : ` with ${cluster} clusters`;
  throw usage(`${name} holds at most ${maximum} clusters, and ${size} needs more${largest}`, context, hint);
}

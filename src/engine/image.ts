/**
 * Opening an image: the whole file when it holds a file system itself, else one
 * partition of a partitioned disk image (issue 2, "Image addressing"). The file
 * system is recognised by content, never by the partition type byte alone: type
 * bytes lie (0x83 partitions formatted FAT, 0x07 shared by NTFS and exFAT...).
 */
import { decodeBootSector } from './fat/boot-sector.js';
import { DiskkitError, ErrorCode, isDiskkitError, type DiskkitWarning } from './errors.js';
import { readU16LE, readU64LE } from './binary.js';
import { FileBlockSource, SliceBlockSource, type BlockSource } from '../io/block-source.js';
import { heldJournalFor, RollbackJournal, recoverHotJournal } from './journal/index.js';
import { describePartitions, readPartitionTable, type Partition, type PartitionTable } from './partition/index.js';

export type ImageFormat = 'fat' | 'ntfs' | 'unknown';

export interface OpenImageOptions {
  /** 1-based partition number (MBR: 1..4 primary, 5.. logical; GPT: entry number). */
  partition?: number;
  writable?: boolean;
}

export interface OpenedImage {
  /** The whole image, or a slice of it for a partition. Closing it closes the file. */
  source: BlockSource;
  partition: Partition | null;
  format: ImageFormat;
  /** The partition table when one was read (null when the whole image was used without looking). */
  table: PartitionTable | null;
  /** Recoverable partition-table damage (backup GPT used, broken EBR chain...). */
  warnings: DiskkitWarning[];
}

const PROBE_BYTES = 512;
const NTFS_OEM_ID = 'NTFS    ';

/** True when `sector` holds an NTFS boot sector: OEM id plus a sane BPB. */
export function isNtfsBootSector(sector: Uint8Array): boolean {
  if (sector.length < 512) return false;
  if (Buffer.from(sector.subarray(3, 11)).toString('latin1') !== NTFS_OEM_ID) return false;
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

/** True when `sector` decodes as a FAT boot sector (the size is checked later, by the volume). */
export function isFatBootSector(sector: Uint8Array): boolean {
  try {
    decodeBootSector(sector);
    return true;
  } catch (error) {
    if (isDiskkitError(error)) return false;
    throw error;
  }
}

/** Which file system `source` starts with, by content. */
export function probeFormat(source: BlockSource): ImageFormat {
  if (source.size < PROBE_BYTES) return 'unknown';
  const sector = new Uint8Array(PROBE_BYTES);
  source.readAt(sector, 0, PROBE_BYTES, 0);
  if (isNtfsBootSector(sector)) return 'ntfs';
  if (isFatBootSector(sector)) return 'fat';
  return 'unknown';
}

function pastEnd(p: Partition, image: BlockSource): boolean {
  return p.start + p.size > image.size;
}

function sliceFor(image: BlockSource, p: Partition): SliceBlockSource {
  if (pastEnd(p, image)) {
    throw new DiskkitError(
      ErrorCode.PARTITION,
      `partition ${p.index} (bytes ${p.start}..${p.start + p.size}) runs past the end of the image (${image.size} bytes)`,
      { context: { partition: p.index, start: p.start, size: p.size, imageSize: image.size }, hint: 'the image may be truncated' },
    );
  }
  return new SliceBlockSource(image, p.start, p.size);
}

function listing(table: PartitionTable): string {
  return `${table.scheme.toUpperCase()} partitions: ${describePartitions(table.partitions)}`;
}

/**
 * Opens `path` and picks the volume: with `partition` N, that partition (E_PARTITION
 * listing the partitions when there is none such); without it, the whole image when
 * it starts with a FAT or NTFS boot sector, else the only FAT or NTFS partition, else
 * E_PARTITION with the list. An image with neither a file system nor a partition
 * table is returned whole with format 'unknown' (mkfs writes such images).
 */
export function openImage(path: string, options: OpenImageOptions = {}): OpenedImage {
  // A write that was killed half-way is undone before anything reads the image.
  recoverHotJournal(path);
  const image = FileBlockSource.open(path, { writable: options.writable });
  try {
    const opened = choose(image, options);
    if (options.writable) attachJournal(path, image, opened);
    return opened;
  } catch (error) {
    image.close();
    if (isDiskkitError(error) && error.context.image === undefined) error.context.image = path;
    throw error;
  }
}

/**
 * Every write to a writable image goes through a rollback journal (journal/): the
 * journal created by an enclosing mkfs when there is one, else a fresh one.
 */
function attachJournal(path: string, image: FileBlockSource, opened: OpenedImage): void {
  const journal = heldJournalFor(path) ?? new RollbackJournal(path);
  journal.volume = { offset: opened.source.baseOffset, size: opened.source.size };
  image.writeGuard = journal;
}

function choose(image: BlockSource, options: OpenImageOptions): OpenedImage {
  if (options.partition !== undefined) {
    const table = readPartitionTable(image);
    if (table.scheme === 'none') {
      throw new DiskkitError(ErrorCode.PARTITION, `no partition table found, so there is no partition ${options.partition}`, {
        context: { partition: options.partition },
        hint: 'leave out --partition to use the whole image',
      });
    }
    const partition = table.partitions.find((p) => p.index === options.partition);
    if (partition === undefined) {
      throw new DiskkitError(ErrorCode.PARTITION, `no partition ${options.partition}; ${listing(table)}`, {
        context: { partition: options.partition, partitions: table.partitions },
      });
    }
    const source = sliceFor(image, partition);
    return { source, partition, format: probeFormat(source), table, warnings: table.warnings };
  }

  const whole = probeFormat(image);
  if (whole !== 'unknown') return { source: image, partition: null, format: whole, table: null, warnings: [] };

  const table = readPartitionTable(image);
  if (table.scheme === 'none') return { source: image, partition: null, format: 'unknown', table, warnings: table.warnings };

  const found: { partition: Partition; format: ImageFormat }[] = [];
  for (const partition of table.partitions) {
    // A partition that starts beyond the image cannot be probed; one that only ends
    // beyond it is probed so that choosing it reports the truncation clearly.
    if (partition.start + PROBE_BYTES > image.size || partition.size < PROBE_BYTES) continue;
    const format = probeFormat(new SliceBlockSource(image, partition.start, Math.min(partition.size, image.size - partition.start)));
    if (format !== 'unknown') found.push({ partition, format });
  }
  if (found.length === 1) {
    const { partition, format } = found[0]!;
    return { source: sliceFor(image, partition), partition, format, table, warnings: table.warnings };
  }
  const why = found.length === 0 ? 'no FAT or NTFS file system found in the image or any partition' : `${found.length} partitions hold a file system (${found.map((f) => `${f.partition.index}: ${f.format}`).join(', ')})`;
  throw new DiskkitError(ErrorCode.PARTITION, `${why}; ${listing(table)}`, {
    context: { partitions: table.partitions },
    hint: found.length > 1 ? 'choose one with --partition N' : undefined,
  });
}

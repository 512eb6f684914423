/**
 * Opening an image: the whole file when it holds a file system itself, else one
 * partition of a partitioned disk image (issue 2, "Image addressing"). The file
 * system is recognised by content, never by the partition type byte alone: type
 * bytes lie (0x83 partitions formatted FAT, 0x07 shared by NTFS and exFAT...).
 */
import { DiskkitError, ErrorCode, isDiskkitError, type DiskkitWarning } from './errors.js';
import { FileBlockSource, SliceBlockSource, type BlockSource } from '../io/block-source.js';
import { journalPresent } from './journal/journal-path.js';
import type { Partition, PartitionTable } from './partition/index.js';
import { knownFormatTitles, probeSource, type FormatDefinition } from './formats.js';
import './registered-formats.js';

/** A registered format's name ('fat', 'ntfs'...), or 'unknown'. */
export type ImageFormat = string;

export interface OpenImageOptions {
  /** 1-based partition number (MBR: 1..4 primary, 5.. logical; GPT: entry number). */
  partition?: number;
  writable?: boolean;
}

export interface OpenedImage {
  /** The whole image, or a slice of it for a partition. Closing it closes the file. */
  source: BlockSource;
  partition: Partition | null;
  /** The format's name, or 'unknown'. */
  format: ImageFormat;
  /** The registered format that recognised the source (null when none did). */
  definition: FormatDefinition | null;
  /** The partition table when one was read (null when the whole image was used without looking). */
  table: PartitionTable | null;
  /** Recoverable partition-table damage (backup GPT used, broken EBR chain...). */
  warnings: DiskkitWarning[];
}

/** No file system diskkit knows fits in less than one sector. */
const MIN_VOLUME_BYTES = 512;
/** The shortest magic number a format is recognised by. */
const PROBE_MIN_BYTES = 8;

/** The registered format `source` starts with, by content (the registry's probes), or null. */
export function probeFormat(source: BlockSource): FormatDefinition | null {
  // Shorter sources are still probed: a magic number (Cartridge's 8 bytes) recognises a
  // truncated image, which its format then reports as truncated; boot-sector probes
  // need 512 bytes and say no.
  if (source.size < PROBE_MIN_BYTES) return null;
  return probeSource(source);
}

function probed(source: BlockSource): { format: ImageFormat; definition: FormatDefinition | null } {
  const definition = probeFormat(source);
  return { format: definition?.name ?? 'unknown', definition };
}

/** 'FAT or NTFS': the registered formats, for messages. */

/** The x86 jump a boot sector starts with (EB xx or E9 xx xx): an MBR's code does not. */
function startsWithJump(image: BlockSource): boolean {
  if (image.size < 3) return false;
  const head = new Uint8Array(3);
  image.readAt(head, 0, 3, 0);
  return head[0] === 0xeb || head[0] === 0xe9;
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

type PartitionModule = typeof import('./partition/index.js');

function listing(partitions: PartitionModule, table: PartitionTable): string {
  return `${table.scheme.toUpperCase()} partitions: ${partitions.describePartitions(table.partitions)}`;
}

/**
 * Opens `path` and picks the volume: with `partition` N, that partition (E_PARTITION
 * listing the partitions when there is none such); without it, the whole image when
 * a registered format recognises it, else the only partition one recognises, else
 * E_PARTITION with the list. An image with neither a file system nor a partition
 * table is returned whole with format 'unknown' (mkfs writes such images).
 */
export async function openImage(path: string, options: OpenImageOptions = {}): Promise<OpenedImage> {
  // A write that was killed half-way is undone before anything reads the image. The
  // journal code loads only when there is a journal or a write (start-up cost).
  if (journalPresent(path)) (await import('./journal/index.js')).recoverHotJournal(path);
  const image = FileBlockSource.open(path, { writable: options.writable });
  try {
    const opened = await choose(image, options);
    if (options.writable) await attachJournal(path, image, opened);
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
async function attachJournal(path: string, image: FileBlockSource, opened: OpenedImage): Promise<void> {
  const { heldJournalFor, RollbackJournal } = await import('./journal/index.js');
  const journal = heldJournalFor(path) ?? new RollbackJournal(path);
  journal.volume = { offset: opened.source.baseOffset, size: opened.source.size };
  image.writeGuard = journal;
}

/** The partition-table code loads only for images that are not a volume from byte 0, or with --partition. */
async function choose(image: BlockSource, options: OpenImageOptions): Promise<OpenedImage> {
  if (options.partition !== undefined) {
    const partitions = await import('./partition/index.js');
    const table = partitions.readPartitionTable(image);
    if (table.scheme === 'none') {
      throw new DiskkitError(ErrorCode.PARTITION, `no partition table found, so there is no partition ${options.partition}`, {
        context: { partition: options.partition },
        hint: 'leave out --partition to use the whole image',
      });
    }
    const partition = table.partitions.find((p) => p.index === options.partition);
    if (partition === undefined) {
      throw new DiskkitError(ErrorCode.PARTITION, `no partition ${options.partition}; ${listing(partitions, table)}`, {
        context: { partition: options.partition, partitions: table.partitions },
      });
    }
    const source = sliceFor(image, partition);
    return { source, partition, ...probed(source), table, warnings: table.warnings };
  }

  const whole = probed(image);
  if (whole.definition !== null) return { source: image, partition: null, ...whole, table: null, warnings: [] };

  const partitions = await import('./partition/index.js');
  const table = partitions.readPartitionTable(image);
  if (table.scheme === 'none' || (table.scheme === 'mbr' && table.partitions.length === 0 && startsWithJump(image))) {
    // No table, or an empty one in what starts like a boot sector (a FAT boot sector has
    // 55 AA too): the format that explains unknown sources says what is wrong with it.
    return { source: image, partition: null, format: 'unknown', definition: null, table, warnings: table.warnings };
  }

  const found: { partition: Partition; definition: FormatDefinition }[] = [];
  for (const partition of table.partitions) {
    // A partition that starts beyond the image cannot be probed; one that only ends
    // beyond it is probed so that choosing it reports the truncation clearly.
    if (partition.start + MIN_VOLUME_BYTES > image.size || partition.size < MIN_VOLUME_BYTES) continue;
    const definition = probeFormat(new SliceBlockSource(image, partition.start, Math.min(partition.size, image.size - partition.start)));
    if (definition !== null) found.push({ partition, definition });
  }
  if (found.length === 1) {
    const { partition, definition } = found[0]!;
    return { source: sliceFor(image, partition), partition, format: definition.name, definition, table, warnings: table.warnings };
  }
  const why = found.length === 0 ? `no ${knownFormatTitles()} file system found in the image or any partition` : `${found.length} partitions hold a file system (${found.map((f) => `${f.partition.index}: ${f.definition.name}`).join(', ')})`;
  throw new DiskkitError(ErrorCode.PARTITION, `${why}; ${listing(partitions, table)}`, {
    context: { partitions: table.partitions },
    hint: found.length > 1 ? 'choose one with --partition N' : undefined,
  });
}

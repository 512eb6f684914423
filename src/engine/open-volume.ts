/**
 * Opens the volume an image argument names: the whole image, or one partition of it
 * (openImage decides which, by content), with the registered format that recognised
 * it. Commands call this and then talk only to the Volume interface.
 */
import { existsSync } from 'node:fs';
import { DiskkitError, ErrorCode } from './errors.js';
import { formatToOpen, knownFormatTitles, readOnlyError } from './formats.js';
import { openImage, type OpenedImage } from './image.js';
import type { Volume } from './volume.js';
import type { BlockSource } from '../io/block-source.js';

export interface OpenVolumeOptions {
  /** 1-based partition number (--partition). */
  partition?: number;
  /** For write commands: a format diskkit only reads gives E_READ_ONLY before anything else happens. */
  writable?: boolean;
  /** A snapshot to read (IMAGE@NAME:/PATH); E_UNSUPPORTED for formats without snapshots. */
  snapshot?: string;
}

export async function openVolume(imagePath: string, options: OpenVolumeOptions = {}): Promise<Volume> {
  const named = splitSnapshotImage(imagePath);
  const snapshot = options.snapshot ?? named.snapshot;
  return volumeOf(await openImage(named.image, options), { ...options, ...(snapshot !== undefined ? { snapshot } : {}) });
}

/**
 * `IMAGE@NAME` names snapshot NAME of IMAGE (docs/cartridge-format.md §13) when no file
 * is called `IMAGE@NAME` and IMAGE exists; anything else is the image path as it is.
 * A snapshot name may hold '@' itself (`a.cart@v@2`): the longest IMAGE that exists wins.
 */
export function splitSnapshotImage(imagePath: string): { image: string; snapshot?: string } {
  if (existsSync(imagePath)) return { image: imagePath };
  for (let at = imagePath.lastIndexOf('@'); at > 0; at = imagePath.lastIndexOf('@', at - 1)) {
    // A snapshot name holds no '/': an '@' before the last '/' belongs to the image's path.
    if (at === imagePath.length - 1 || imagePath.indexOf('/', at) >= 0) continue;
    if (existsSync(imagePath.slice(0, at))) return { image: imagePath.slice(0, at), snapshot: imagePath.slice(at + 1) };
  }
  return { image: imagePath };
}

/** An MFT dump (`icat IMG 0`) starts with record 0's signature, `FILE` (or `BAAD` when torn). */
function startsWithMftRecord(source: BlockSource): boolean {
  if (source.size < 1024) return false;
  const head = new Uint8Array(4);
  source.readAt(head, 0, 4, 0);
  const signature = String.fromCharCode(...head);
  return signature === 'FILE' || signature === 'BAAD';
}

/**
 * What an unrecognised source's explaining format (FAT) threw, unless that format found
 * no mark of itself either (E_UNKNOWN_FORMAT): then the source is no image of any known
 * format, and a message about FAT alone would send the user looking for damage that is
 * not there.
 */
function unrecognised(error: unknown, partition: number | undefined): unknown {
  if (!(error instanceof DiskkitError) || error.code !== ErrorCode.UNKNOWN_FORMAT) return error;
  const what = partition === undefined ? `not a ${knownFormatTitles()} image` : `partition ${partition} holds no ${knownFormatTitles()} file system`;
  return new DiskkitError(ErrorCode.UNKNOWN_FORMAT, `${what}: nothing at its start marks one (no boot sector signature 55 AA or jump instruction, no magic number)`);
}

/**
 * The Volume on an image openImage already opened (and picked the partition of). On
 * failure the image's source is closed.
 */
export async function volumeOf(opened: OpenedImage, options: { writable?: boolean; snapshot?: string } = {}): Promise<Volume> {
  try {
    if (opened.format === 'unknown' && startsWithMftRecord(opened.source)) {
      throw new DiskkitError(ErrorCode.UNKNOWN_FORMAT, 'this is an NTFS $MFT dump (it starts with a FILE record), not a FAT volume', {
        context: { image: opened.source.name },
        hint: `index it with: diskkit mft index ${opened.source.name}`,
      });
    }
    const format = formatToOpen(opened.definition);
    if (options.writable && !format.capabilities.includes('write')) throw readOnlyError(format.title, opened.source.name);
    if (options.snapshot !== undefined && !format.capabilities.includes('snapshots')) {
      throw new DiskkitError(ErrorCode.UNSUPPORTED, `${format.title} has no snapshots (IMAGE@${options.snapshot} names one)`, { context: { image: opened.source.name, format: format.name, snapshot: options.snapshot } });
    }
    let volume: Volume;
    try {
      volume = await format.open(opened.source, { writable: options.writable, ...(options.snapshot !== undefined ? { snapshot: options.snapshot } : {}) });
    } catch (error) {
      throw opened.definition === null ? unrecognised(error, opened.partition?.index) : error;
    }
    if (options.writable && !volume.capabilities.formatWritable) {
      volume.close();
      throw readOnlyError(format.title, opened.source.name);
    }
    const p = opened.partition;
    volume.partition = p ? { index: p.index, start: p.start, size: p.size, type: p.type } : null;
    return volume;
  } catch (error) {
    opened.source.close();
    throw error;
  }
}

/**
 * Opens the volume an image argument names: the whole image, or one partition of it
 * (openImage decides which, by content), with the registered format that recognised
 * it. Commands call this and then talk only to the Volume interface.
 */
import { DiskkitError, ErrorCode } from './errors.js';
import { formatToOpen, readOnlyError } from './formats.js';
import { openImage, type OpenedImage } from './image.js';
import type { Volume } from './volume.js';
import type { BlockSource } from '../io/block-source.js';

export interface OpenVolumeOptions {
  /** 1-based partition number (--partition). */
  partition?: number;
  /** For write commands: a format diskkit only reads gives E_READ_ONLY before anything else happens. */
  writable?: boolean;
}

export async function openVolume(imagePath: string, options: OpenVolumeOptions = {}): Promise<Volume> {
  return volumeOf(await openImage(imagePath, options), options);
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
 * The Volume on an image openImage already opened (and picked the partition of). On
 * failure the image's source is closed.
 */
export async function volumeOf(opened: OpenedImage, options: { writable?: boolean } = {}): Promise<Volume> {
  try {
    if (opened.format === 'unknown' && startsWithMftRecord(opened.source)) {
      throw new DiskkitError(ErrorCode.UNKNOWN_FORMAT, 'this is an NTFS $MFT dump (it starts with a FILE record), not a FAT volume', {
        context: { image: opened.source.name },
        hint: `index it with: diskkit mft index ${opened.source.name}`,
      });
    }
    const format = formatToOpen(opened.definition);
    if (options.writable && !format.capabilities.includes('write')) throw readOnlyError(format.title, opened.source.name);
    const volume = await format.open(opened.source, { writable: options.writable });
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

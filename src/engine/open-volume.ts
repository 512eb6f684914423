/**
 * Opens the volume an image argument names: the whole image, or one partition of it
 * (openImage decides which, by content). Commands call this and then talk only to
 * the Volume interface.
 */
import { DiskkitError, ErrorCode } from './errors.js';
import { openImage, type OpenedImage } from './image.js';
import { FatVolume } from './fat/volume.js';
import type { Volume } from './volume.js';
import type { BlockSource } from '../io/block-source.js';

export interface OpenVolumeOptions {
  /** 1-based partition number (--partition). */
  partition?: number;
  writable?: boolean;
}

export function openVolume(imagePath: string, options: OpenVolumeOptions = {}): Volume {
  return volumeOf(openImage(imagePath, options), options);
}

/**
 * The Volume on an image openImage already opened (and picked the partition of). On
 * failure the image's source is closed.
 */
/** An MFT dump (`icat IMG 0`) starts with record 0's signature, `FILE` (or `BAAD` when torn). */
function startsWithMftRecord(source: BlockSource): boolean {
  if (source.size < 1024) return false;
  const head = new Uint8Array(4);
  source.readAt(head, 0, 4, 0);
  const signature = String.fromCharCode(...head);
  return signature === 'FILE' || signature === 'BAAD';
}

export function volumeOf(opened: OpenedImage, options: { writable?: boolean } = {}): Volume {
  try {
    if (opened.format === 'ntfs') {
      throw new DiskkitError(ErrorCode.UNSUPPORTED, 'NTFS volumes are not supported by this command yet', {
        context: { image: opened.source.name },
        hint: `list its files with: diskkit mft index ${opened.source.name}`,
      });
    }
    if (opened.format === 'unknown' && startsWithMftRecord(opened.source)) {
      throw new DiskkitError(ErrorCode.UNKNOWN_FORMAT, 'this is an NTFS $MFT dump (it starts with a FILE record), not a FAT volume', {
        context: { image: opened.source.name },
        hint: `index it with: diskkit mft index ${opened.source.name}`,
      });
    }
    // 'unknown' goes to FatVolume too: its boot-sector validation names the bad field.
    const volume: Volume = FatVolume.open(opened.source, { writable: options.writable });
    const p = opened.partition;
    volume.partition = p ? { index: p.index, start: p.start, size: p.size, type: p.type } : null;
    return volume;
  } catch (error) {
    opened.source.close();
    throw error;
  }
}

/**
 * Opens the volume an image argument names: the whole image, or one partition of it
 * (openImage decides which, by content). Commands call this and then talk only to
 * the Volume interface.
 */
import { DiskkitError, ErrorCode } from './errors.js';
import { openImage } from './image.js';
import { FatVolume } from './fat/volume.js';
import type { Volume } from './volume.js';

export interface OpenVolumeOptions {
  /** 1-based partition number (--partition). */
  partition?: number;
  writable?: boolean;
}

export function openVolume(imagePath: string, options: OpenVolumeOptions = {}): Volume {
  const opened = openImage(imagePath, options);
  try {
    if (opened.format === 'ntfs') {
      throw new DiskkitError(ErrorCode.UNSUPPORTED, 'NTFS volumes are not supported by this command yet', { context: { image: imagePath } });
    }
    // 'unknown' goes to FatVolume too: its boot-sector validation names the bad field.
    const volume: Volume = FatVolume.open(opened.source, { writable: options.writable });
    volume.partition = opened.partition ? { index: opened.partition.index, start: opened.partition.start, size: opened.partition.size, type: opened.partition.type } : null;
    return volume;
  } catch (error) {
    opened.source.close();
    throw error;
  }
}

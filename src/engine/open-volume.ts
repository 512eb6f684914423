/**
 * Opens the volume an image argument names: the whole image, or one partition of it
 * (openImage decides which, by content), with the registered format that recognised
 * it. Commands call this and then talk only to the Volume interface.
 */
import { formatToOpen, readOnlyError } from './formats.js';
import { openImage, type OpenedImage } from './image.js';
import type { Volume } from './volume.js';

export interface OpenVolumeOptions {
  /** 1-based partition number (--partition). */
  partition?: number;
  /** For write commands: a format diskkit only reads gives E_READ_ONLY before anything else happens. */
  writable?: boolean;
}

export function openVolume(imagePath: string, options: OpenVolumeOptions = {}): Volume {
  return volumeOf(openImage(imagePath, options), options);
}

/**
 * The Volume on an image openImage already opened (and picked the partition of). On
 * failure the image's source is closed.
 */
export function volumeOf(opened: OpenedImage, options: { writable?: boolean } = {}): Volume {
  try {
    const format = formatToOpen(opened.definition);
    if (options.writable && !format.capabilities.includes('write')) throw readOnlyError(format.title, opened.source.name);
    const volume = format.open(opened.source, { writable: options.writable });
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

/**
 * Opens the volume an image argument names: the whole image, or one partition of it
 * (openImage decides which, by content). Commands call this and then talk only to
 * the Volume interface.
 */
import { openImage, type OpenedImage } from './image.js';
import { FatVolume } from './fat/volume.js';
import { NtfsVolume } from './ntfs/index.js';
import type { Volume } from './volume.js';

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
export function volumeOf(opened: OpenedImage, options: { writable?: boolean } = {}): Volume {
  try {
    // 'unknown' goes to FatVolume too: its boot-sector validation names the bad field.
    const volume: Volume = opened.format === 'ntfs' ? NtfsVolume.open(opened.source) : FatVolume.open(opened.source, { writable: options.writable });
    const p = opened.partition;
    volume.partition = p ? { index: p.index, start: p.start, size: p.size, type: p.type } : null;
    return volume;
  } catch (error) {
    opened.source.close();
    throw error;
  }
}

/**
 * Opens the volume an image argument names: the whole image, or one partition of it.
 * Commands call this and then talk only to the Volume interface.
 */
import { FileBlockSource } from '../io/block-source.js';
import { FatVolume } from './fat/volume.js';
import type { Volume } from './volume.js';

export interface OpenVolumeOptions {
  /** 1-based partition number (--partition). */
  partition?: number;
  writable?: boolean;
}

export function openVolume(imagePath: string, options: OpenVolumeOptions = {}): Volume {
  // TODO(lead): replace with image.ts openImage(imagePath, options) (MBR/GPT, --partition, format probe).
  const source = FileBlockSource.open(imagePath, { writable: options.writable });
  try {
    return FatVolume.open(source, { writable: options.writable });
  } catch (error) {
    source.close();
    throw error;
  }
}

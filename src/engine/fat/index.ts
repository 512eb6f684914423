/** The FAT format's public surface: its registry entry and what commands may use. */
import type { FormatDefinition } from '../formats.js';
import { isFatBootSector } from '../image.js';
import { FatVolume } from './volume.js';

export const fatFormat: FormatDefinition = {
  name: 'fat',
  title: 'FAT12/16/32',
  capabilities: ['read', 'write', 'mkfs', 'fsck', 'repair', 'bench'],
  probe: (head) => head.length >= 512 && isFatBootSector(head.subarray(0, 512)),
  open: (source, options) => FatVolume.open(source, { writable: options.writable }),
};

export { FatVolume } from './volume.js';

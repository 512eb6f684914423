/** The FAT format's public surface: its registry entry and what commands may use. */
import type { FormatDefinition } from '../formats.js';
import { isFatBootSector } from './boot-sector.js';
import { FatVolume } from './volume.js';

export const fatFormat: FormatDefinition = {
  name: 'fat',
  title: 'FAT12/16/32',
  capabilities: ['read', 'write', 'mkfs', 'fsck', 'repair', 'bench'],
  probe: (head) => head.length >= 512 && isFatBootSector(head.subarray(0, 512)),
  open: (source, options) => FatVolume.open(source, { writable: options.writable }),
  // Loaded when used: every command registers the format, few run mkfs or fsck.
  hooks: {
    mkfs: {
      plan: async (request) => (await import('./mkfs-hook.js')).planFatMkfs(request),
      format: async (target, request) => (await import('./mkfs-hook.js')).formatFatTarget(target, request),
    },
    fsck: async (source, request) => (await import('./fsck-hook.js')).fsckFat(source, request),
  },
  // A source no format recognised is opened as FAT to name the bad boot-sector field.
  explainsUnknown: true,
};

export { FatVolume } from './volume.js';

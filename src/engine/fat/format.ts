/**
 * FAT's registry entry. Only the boot-sector probe is loaded with it: the volume code
 * (reader, writer, allocator) is imported when a FAT image is opened, mkfs and fsck
 * when they run, so a command on another format never loads them.
 */
import type { FormatDefinition } from '../formats.js';
import { isFatBootSector } from './boot-sector.js';

export const fatFormat: FormatDefinition = {
  name: 'fat',
  title: 'FAT12/16/32',
  capabilities: ['read', 'write', 'mkfs', 'fsck', 'repair', 'bench'],
  probe: (head) => head.length >= 512 && isFatBootSector(head.subarray(0, 512)),
  open: async (source, options) => (await import('./volume.js')).FatVolume.open(source, { writable: options.writable }),
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

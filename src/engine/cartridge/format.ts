/**
 * Cartridge's registry entry: recognised by its magic (docs/cartridge-format.md §3),
 * opened as a CartridgeVolume, made by its own mkfs `create` hook (the image is a file
 * the format grows, so there is no fixed-size target to format).
 */
import type { FormatDefinition } from '../formats.js';
import { hasCartridgeMagic } from './superblock.js';
import { CartridgeVolume } from './cartridge-volume.js';

export const cartridgeFormat: FormatDefinition = {
  name: 'cartridge',
  title: 'Cartridge',
  capabilities: ['read', 'write', 'mkfs', 'fsck', 'repair', 'bench', 'snapshots', 'encryption'],
  probe: (head) => hasCartridgeMagic(head),
  open: (source, options) => CartridgeVolume.open(source, options),
  hooks: {
    mkfs: {
      plan: async (request) => (await import('./mkfs-hook.js')).planCartridgeMkfs(request),
      format: async () => (await import('./mkfs-hook.js')).noTargetFormat(),
      create: async (request) => (await import('./mkfs-hook.js')).createCartridge(request),
    },
    fsck: async (source, request) => (await import('./fsck-hook.js')).fsckCartridge(source, request),
  },
};

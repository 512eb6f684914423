/**
 * NTFS's registry entry: read-only volumes, recognised by the boot sector. Only the
 * probe is loaded with it; the volume code is imported when an NTFS image is opened.
 */
import type { FormatDefinition } from '../formats.js';
import { startsNtfsVolume } from './volume-probe.js';

export const ntfsFormat: FormatDefinition = {
  name: 'ntfs',
  title: 'NTFS',
  capabilities: ['read', 'bench'],
  probe: (head) => head.length >= 512 && startsNtfsVolume(head.subarray(0, 512)),
  open: async (source) => (await import('./ntfs-volume.js')).NtfsVolume.open(source),
};

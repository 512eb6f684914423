/** NTFS's registry entry: read-only volumes, recognised by the boot sector. */
import type { FormatDefinition } from '../formats.js';
import { startsNtfsVolume } from './volume-probe.js';
import { NtfsVolume } from './ntfs-volume.js';

export const ntfsFormat: FormatDefinition = {
  name: 'ntfs',
  title: 'NTFS',
  capabilities: ['read', 'bench'],
  probe: (head) => head.length >= 512 && startsNtfsVolume(head.subarray(0, 512)),
  open: (source) => NtfsVolume.open(source),
};

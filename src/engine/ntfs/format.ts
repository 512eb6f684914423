/**
 * NTFS's registry entry: read-only volumes. A module of its own (re-exported by
 * index.ts) so that registered-formats.ts can import it without index.ts, whose MFT
 * indexer modules import image.ts, which imports the registry: a cycle.
 */
import type { FormatDefinition } from '../formats.js';
import { startsNtfsVolume } from './volume-probe.js';
import { NtfsVolume } from './ntfs-volume.js';

export const ntfsFormat: FormatDefinition = {
  name: 'ntfs',
  title: 'NTFS (read-only)',
  capabilities: ['read'],
  probe: (head) => head.length >= 512 && startsNtfsVolume(head.subarray(0, 512)),
  open: (source) => NtfsVolume.open(source),
};

/**
 * How big a FAT volume must be to hold a given tree (for `mkfs --from DIR --size auto`):
 * the clusters for file data, for every directory's slots (8.3 entry plus long-name
 * slots, '.' and '..'), and the root (a cluster chain on FAT32, the fixed region on
 * FAT12/16). The smallest volume size whose layout (as planFatLayout chooses it) has
 * that many clusters is found by a search over sizes.
 */
import { DIR_ENTRY_SIZE } from './dir-entry.js';
import type { FatLayout, LayoutRequest } from './layout.js';
import { UNITS_PER_SLOT } from './long-name.js';
import { exactShortName } from './short-name.js';
import type { TreeSummary } from '../host-tree.js';

export type { TreeSummary } from '../host-tree.js';

/** Directory slots a name takes: one 8.3 entry, plus long-name slots when it is not 8.3 as written. */
export function slotsForName(name: string): number {
  return exactShortName(name) ? 1 : 1 + Math.ceil(name.length / UNITS_PER_SLOT);
}

/** Whether `tree` fits in a volume with `layout` (`labelEntry` when the root holds a volume label). */
export function treeFits(layout: FatLayout, tree: TreeSummary, labelEntry = false): boolean {
  const bpc = layout.bytesPerCluster;
  let clusters = 0;
  for (const size of tree.fileSizes) clusters += Math.ceil(size / bpc);
  for (const names of tree.directories) clusters += Math.ceil(((2 + names.reduce((n, x) => n + slotsForName(x), 0)) * DIR_ENTRY_SIZE) / bpc);
  const rootSlots = tree.rootNames.reduce((n, x) => n + slotsForName(x), 0) + (labelEntry ? 1 : 0);
  if (layout.fatType === 'fat32') clusters += Math.max(1, Math.ceil((rootSlots * DIR_ENTRY_SIZE) / bpc));
  else if (rootSlots > layout.rootEntryCount) return false;
  return clusters <= layout.clusterCount;
}

/**
 * The smallest volume size (a multiple of 64 KiB) whose layout holds `tree`, then
 * grown by `headroom` (0.1 = 10 %) and checked again. `plan` is planFatLayout; the
 * request's other fields (sector size, FAT type, cluster size, FAT count) are kept.
 */
export function autoVolumeSize(tree: TreeSummary, request: Omit<LayoutRequest, 'volumeBytes'>, plan: (r: LayoutRequest) => FatLayout, headroom: number, labelEntry = false): number {
  const step = 64 * 1024;
  const fits = (bytes: number): boolean => {
    try {
      return treeFits(plan({ ...request, volumeBytes: bytes }), tree, labelEntry);
    } catch {
      return false;
    }
  };
  const data = tree.fileSizes.reduce((n, s) => n + s, 0);
  let size = Math.max(step, Math.floor(data / step) * step);
  // Grow geometrically to a fitting size, then narrow down linearly in 1/64 steps.
  let guard = 0;
  while (!fits(size)) {
    size = Math.ceil((size * 1.0625) / step) * step;
    if (++guard > 2000) throw new RangeError('no FAT layout holds this tree');
  }
  let low = size;
  for (let s = size - step; s >= step && size - s <= size / 8; s -= step) {
    if (fits(s)) low = s;
    else break;
  }
  let final = Math.ceil((low * (1 + headroom)) / step) * step;
  guard = 0;
  while (!fits(final)) {
    final += step;
    if (++guard > 100000) throw new RangeError('no FAT layout holds this tree');
  }
  return final;
}

/**
 * Which writes the rollback journal need not save: those that fall entirely inside
 * data clusters that were free when the command began. A rollback restores the FAT,
 * which makes those clusters free again, so what was written into them does not
 * matter (fatgen103 section 4: a free cluster's contents are undefined).
 */
import type { BootSector } from './boot-sector.js';

/**
 * A test for the journal: given an image-file byte range, true when it lies wholly in
 * clusters for which `wasFree` is true. `baseOffset` is where the volume starts in the
 * image file (a partition's offset).
 */
export function freeClusterTest(boot: BootSector, baseOffset: number, wasFree: (cluster: number) => boolean): (position: number, length: number) => boolean {
  const dataStart = baseOffset + boot.firstDataSector * boot.bytesPerSector;
  const clusterBytes = boot.bytesPerCluster;
  const maxCluster = boot.clusterCount + 1;
  return (position, length) => {
    if (length <= 0 || position < dataStart) return false;
    const first = 2 + Math.floor((position - dataStart) / clusterBytes);
    const last = 2 + Math.floor((position + length - 1 - dataStart) / clusterBytes);
    if (last > maxCluster) return false;
    for (let c = first; c <= last; c++) if (!wasFree(c)) return false;
    return true;
  };
}

/** The test over a snapshot of in-use bits (ClusterAllocator.snapshotUsed). */
export function freeInSnapshot(used: Uint32Array): (cluster: number) => boolean {
  return (c) => (used[c >>> 5]! & (1 << (c & 31))) === 0;
}

/**
 * Names of entries, found again when a message needs them. The walk keeps no name
 * per file (a million strings would dominate the check's time and memory); the owner
 * table keeps each entry's slot position and its directory, so the rare message that
 * names another entry (a cross-link) re-reads that directory and decodes the name.
 */
import { readBytes, type BlockSource } from '../../../io/block-source.js';
import type { BootSector } from '../boot-sector.js';
import { DIR_ENTRY_SIZE, shortNameText } from '../dir-entry.js';
import { longNameAt, scanDirectorySlots } from './dir-scan.js';
import { OwnerKind, type Owners } from './ownership.js';

/** Display name of a directory entry as it appears in paths ('/' in a long name shown as U+2215). */
export function entryDisplayName(bytes: Uint8Array, slot: number, firstSlot: number): string {
  const at = slot * DIR_ENTRY_SIZE;
  const name = longNameAt(bytes, firstSlot, slot) ?? shortNameText(bytes.subarray(at, at + 11), bytes[at + 12]!);
  return name.includes('/') ? name.replace(/\//g, '\u2215') : name;
}

/**
 * A resolver for Owners: the name of owner `id`, from its directory's bytes as they
 * are on disk now (before any repair). The last directory read is kept.
 */
export function nameResolver(source: BlockSource, boot: BootSector, next: Uint32Array, owners: Owners, maxSlots: number): (id: number) => string {
  let cachedParent = -1;
  let cached: { bytes: Uint8Array; positions: number[] } | null = null;
  const bpc = boot.bytesPerCluster;
  const clusterPos = (c: number): number => (boot.firstDataSector + (c - 2) * boot.sectorsPerCluster) * boot.bytesPerSector;
  const load = (parent: number): { bytes: Uint8Array; positions: number[] } => {
    // positions[k]: image position of the k-th byte run (one per cluster, or the fixed root as one run).
    if (owners.kind[parent] === OwnerKind.ROOT && boot.fatType !== 'fat32') {
      const base = boot.rootDirSector * boot.bytesPerSector;
      return { bytes: readBytes(source, base, boot.rootDirSectors * boot.bytesPerSector), positions: [base] };
    }
    const clusters: number[] = [];
    const limit = Math.ceil((maxSlots * DIR_ENTRY_SIZE) / bpc);
    for (let c = owners.start[parent]!; clusters.length < limit && c >= 2 && c <= boot.clusterCount + 1 && owners.owner[c] === parent; c = next[c]!) clusters.push(c);
    const bytes = new Uint8Array(clusters.length * bpc);
    clusters.forEach((c, i) => bytes.set(readBytes(source, clusterPos(c), bpc), i * bpc));
    return { bytes, positions: clusters.map(clusterPos) };
  };
  return (id) => {
    const parent = owners.parent[id]!;
    if (parent !== cachedParent || cached === null) {
      cached = load(parent);
      cachedParent = parent;
    }
    const { bytes, positions } = cached;
    const pos = owners.entryPos[id]!;
    const fixedRoot = positions.length === 1 && owners.kind[parent] === OwnerKind.ROOT && boot.fatType !== 'fat32';
    let slot = -1;
    if (fixedRoot) slot = (pos - positions[0]!) / DIR_ENTRY_SIZE;
    else {
      const k = positions.findIndex((p) => pos >= p && pos < p + bpc);
      if (k >= 0) slot = (k * bpc + (pos - positions[k]!)) / DIR_ENTRY_SIZE;
    }
    if (slot < 0) return `<entry at byte ${pos}>`;
    const scan = scanDirectorySlots(bytes, Math.min(maxSlots, Math.floor(bytes.length / DIR_ENTRY_SIZE)));
    for (let i = 0; i < scan.count; i++) if (scan.slot[i] === slot) return entryDisplayName(bytes, slot, scan.firstSlot[i]!);
    return `<entry at byte ${pos}>`;
  };
}

/**
 * Saving lost chains as files: a FOUND.nnn directory in the root holding FILEnnnn.CHK
 * entries, one per chain (the convention of CHKDSK and fsck.fat -f's cousins). This is
 * a minimal, focused writer: it allocates the directory's clusters, writes its slots
 * and adds one entry to the root (a free slot, or a new cluster on FAT32). It does not
 * depend on the general write path.
 */
import { Attr, DELETED_MARK, DIR_ENTRY_SIZE, encodeDirEntry, encodeDosDateTime, type DirEntry } from '../dir-entry.js';
import type { RepairContext } from './repair-context.js';

export interface SavedChain {
  head: number;
  clusters: number;
}

const enc = new TextEncoder();

function entryFor(name: string, attributes: number, start: number, size: number): DirEntry {
  const when = encodeDosDateTime(new Date());
  return {
    rawName: enc.encode(name),
    attributes,
    ntFlags: 0,
    createTimeTenth: when.tenths,
    createTime: when.time,
    createDate: when.date,
    accessDate: when.date,
    writeTime: when.time,
    writeDate: when.date,
    startCluster: start,
    fileSize: size,
  };
}

/** Root slot positions in order, and the FAT32 root's last cluster. */
function rootSlots(ctx: RepairContext): { positions: number[]; lastCluster: number } {
  const b = ctx.boot;
  const positions: number[] = [];
  if (b.fatType !== 'fat32') {
    const base = b.rootDirSector * b.bytesPerSector;
    for (let s = 0; s < b.rootEntryCount; s++) positions.push(base + s * DIR_ENTRY_SIZE);
    return { positions, lastCluster: 0 };
  }
  let c = b.rootCluster;
  let last = c;
  for (let i = 0; i <= b.clusterCount && ctx.owners.owner[c] === ctx.rootOwner; i++) {
    last = c;
    const pos = ctx.clusterPosition(c);
    for (let s = 0; s < b.bytesPerCluster / DIR_ENTRY_SIZE; s++) positions.push(pos + s * DIR_ENTRY_SIZE);
    const v = ctx.next[c]!;
    if (v < 2 || v > b.clusterCount + 1) break;
    c = v;
  }
  return { positions, lastCluster: last };
}

/**
 * Writes FOUND.nnn with one FILEnnnn.CHK per chain. Returns how many chains were
 * saved (0 when there was no room: the caller then leaves them as they are).
 */
export function saveLostChains(ctx: RepairContext, chains: SavedChain[]): { saved: number; directory: string } {
  const b = ctx.boot;
  const bpc = b.bytesPerCluster;
  const count = Math.min(chains.length, 65000);
  const slot = Buffer.alloc(DIR_ENTRY_SIZE);
  // A free root slot and a name not in use.
  const root = rootSlots(ctx);
  const used = new Set<string>();
  let freeSlot = -1;
  for (let i = 0; i < root.positions.length; i++) {
    ctx.source.readAt(slot, 0, DIR_ENTRY_SIZE, root.positions[i]!);
    if (slot[0] === 0 || slot[0] === DELETED_MARK) {
      if (freeSlot < 0) freeSlot = i;
      if (slot[0] === 0) break;
      continue;
    }
    used.add(slot.toString('latin1', 0, 11));
  }
  let n = 0;
  while (n < 1000 && used.has(`FOUND   ${String(n).padStart(3, '0')}`)) n++;
  const dirName = `FOUND   ${String(n).padStart(3, '0')}`;
  let rootEntryPos: number;
  if (freeSlot >= 0) rootEntryPos = root.positions[freeSlot]!;
  else {
    if (b.fatType !== 'fat32') return { saved: 0, directory: '' };
    const extra = ctx.allocate(1);
    if (!extra) return { saved: 0, directory: '' };
    ctx.writeZeroCluster(extra[0]!);
    ctx.setNext(root.lastCluster, extra[0]!);
    ctx.setEnd(extra[0]!);
    ctx.owners.owner[extra[0]!] = ctx.rootOwner;
    rootEntryPos = ctx.clusterPosition(extra[0]!);
  }
  const slots = count + 2;
  const dirClusters = ctx.allocate(Math.ceil((slots * DIR_ENTRY_SIZE) / bpc));
  if (!dirClusters) return { saved: 0, directory: '' };
  const bytes = new Uint8Array(dirClusters.length * bpc);
  const start = dirClusters[0]!;
  encodeDirEntry(entryFor('.          ', Attr.DIRECTORY, start, 0), bytes, 0, b.fatType);
  encodeDirEntry(entryFor('..         ', Attr.DIRECTORY, 0, 0), bytes, DIR_ENTRY_SIZE, b.fatType);
  for (let i = 0; i < count; i++) {
    const chain = chains[i]!;
    const size = Math.min(0xffffffff, chain.clusters * bpc);
    encodeDirEntry(entryFor(`FILE${String(i).padStart(4, '0')}CHK`, Attr.ARCHIVE, chain.head, size), bytes, (i + 2) * DIR_ENTRY_SIZE, b.fatType);
  }
  dirClusters.forEach((c, i) => {
    ctx.source.writeAt(bytes, i * bpc, bpc, ctx.clusterPosition(c));
    if (i + 1 < dirClusters.length) ctx.setNext(c, dirClusters[i + 1]!);
    else ctx.setEnd(c);
  });
  const rootEntry = new Uint8Array(DIR_ENTRY_SIZE);
  encodeDirEntry(entryFor(dirName, Attr.DIRECTORY, start, 0), rootEntry, 0, b.fatType);
  ctx.source.writeAt(rootEntry, 0, DIR_ENTRY_SIZE, rootEntryPos);
  return { saved: count, directory: `/FOUND.${String(n).padStart(3, '0')}` };
}

/**
 * Page ownership (docs/cartridge-format.md §11 I3), the allocator half of fsck: every page
 * from 3 to pageCount must belong to exactly one of the catalog, an extent map, an
 * extent, the free-list chain or a free extent. Pages claimed twice and pages nobody
 * claims are listed.
 */
import { BTree } from './btree.js';
import { checkTree } from './btree-check.js';
import { type CartridgeFile } from './cartridge-file.js';
import { decodeExtentRecord } from './extent-record.js';
import { readFreeList } from './freelist-page.js';
import { InodeKind, decodeInodeRecord } from './inode-record.js';
import { PageType } from './page.js';
import { type BlockPointer } from './block-pointer.js';
import { decodeSnapshotRecord } from './snapshot-record.js';

export interface OwnershipReport {
  orphans: number[];
  doubleOwned: { page: number; owners: string[] }[];
  problems: { page: number; message: string }[];
}

/** `withoutFreeList`: the list is lost (being rebuilt): every page nothing reaches is an orphan. */
export function checkPageOwnership(file: CartridgeFile, withoutFreeList = false): OwnershipReport {
  const pager = file.pager;
  const pageCount = file.meta.pageCount;
  const report: OwnershipReport = { orphans: [], doubleOwned: [], problems: [] };
  // Trees may share pages with snapshots (that is what a snapshot is): reachability is a
  // set. A free record may cover a page a snapshot reaches only while that snapshot pins
  // it (§8: born ≤ s < freed); it may never cover a page the current tree reaches.
  const reachable = new Map<number, string>();
  const pinnedBy = new Map<number, number[]>();
  let snapshotGeneration: number | null = null;
  const reach = (page: number, count: number, who: string) => {
    for (let p = page; p < page + count; p++) {
      if (!reachable.has(p)) reachable.set(p, who);
      if (snapshotGeneration !== null) pinnedBy.set(p, [...(pinnedBy.get(p) ?? []), snapshotGeneration]);
    }
  };
  const current = new Set<number>();
  const walkCatalog = (root: BlockPointer, label: string) => {
    const catalog = checkTree(pager, PageType.CATALOG_NODE, root);
    report.problems.push(...catalog.problems);
    for (const page of catalog.pages.keys()) reach(page, 1, `${label} catalog`);
    for (const [, value] of new BTree(pager, PageType.CATALOG_NODE, root).range()) {
      const inode = decodeInodeRecord(value);
      if (inode.data.mode === 'extent') {
        const record = decodeExtentRecord(inode.data.record, 0, pager.pageSize, pageCount);
        reach(record.address, record.pageCount, `${label} extent of ${inode.kind === InodeKind.PACK ? 'pack' : 'inode'} ${inode.id}`);
      }
      if (inode.data.mode !== 'extent-map') continue;
      const map = checkTree(pager, PageType.EXTENT_MAP_NODE, inode.data.root);
      report.problems.push(...map.problems);
      for (const page of map.pages.keys()) reach(page, 1, `${label} extent map of inode ${inode.id}`);
      for (const [, extent] of new BTree(pager, PageType.EXTENT_MAP_NODE, inode.data.root).range()) {
        const record = decodeExtentRecord(extent, 0, pager.pageSize, pageCount);
        reach(record.address, record.pageCount, `${label} extent of inode ${inode.id}`);
      }
    }
  };
  walkCatalog(file.meta.catalogRoot, 'current');
  for (const page of reachable.keys()) current.add(page);
  const snapshotTable = checkTree(pager, PageType.SNAPSHOT_NODE, file.meta.snapshotRoot);
  report.problems.push(...snapshotTable.problems);
  for (const page of snapshotTable.pages.keys()) reach(page, 1, 'snapshot table');
  for (const page of snapshotTable.pages.keys()) current.add(page);
  for (const [key, value] of new BTree(pager, PageType.SNAPSHOT_NODE, file.meta.snapshotRoot).range()) {
    const snapshot = decodeSnapshotRecord(value);
    snapshotGeneration = snapshot.generation;
    walkCatalog(snapshot.catalogRoot, `snapshot ${new TextDecoder().decode(key)}`);
  }
  const unreachable = new Map<number, string>();
  const claim = (page: number, count: number, who: string, born: number | null, freed: number | null) => {
    for (let p = page; p < page + count; p++) {
      const previous = unreachable.get(p) ?? (current.has(p) ? reachable.get(p) : undefined);
      const pins = current.has(p) ? undefined : pinnedBy.get(p);
      const pinnedHere = pins !== undefined && born !== null && freed !== null && pins.every((s) => born <= s && s < freed);
      if (previous !== undefined || (pins !== undefined && !pinnedHere)) {
        report.doubleOwned.push({ page: p, owners: [previous ?? reachable.get(p)!, who] });
      } else unreachable.set(p, who);
    }
  };
  const list = withoutFreeList ? { records: [], chain: [] } : readFreeList(pager, file.meta.freeListHead, pageCount);
  for (const pointer of list.chain) claim(pointer.address, 1, 'free-list chain', null, null);
  for (const record of list.records) claim(record.start, record.length, `free (born ${record.born}, freed ${record.freed})`, record.born, record.freed);
  for (let p = 3; p < pageCount; p++) if (!reachable.has(p) && !unreachable.has(p)) report.orphans.push(p);
  return report;
}

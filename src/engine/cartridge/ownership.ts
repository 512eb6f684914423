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
import { decodeInodeRecord } from './inode-record.js';
import { PageType } from './page.js';

export interface OwnershipReport {
  orphans: number[];
  doubleOwned: { page: number; owners: string[] }[];
  problems: { page: number; message: string }[];
}

export function checkPageOwnership(file: CartridgeFile): OwnershipReport {
  const pager = file.pager;
  const pageCount = file.meta.pageCount;
  const owner = new Map<number, string>();
  const report: OwnershipReport = { orphans: [], doubleOwned: [], problems: [] };
  const claim = (page: number, count: number, who: string) => {
    for (let p = page; p < page + count; p++) {
      const previous = owner.get(p);
      if (previous !== undefined) report.doubleOwned.push({ page: p, owners: [previous, who] });
      else owner.set(p, who);
    }
  };
  const catalog = checkTree(pager, PageType.CATALOG_NODE, file.meta.catalogRoot);
  report.problems.push(...catalog.problems);
  for (const page of catalog.pages.keys()) claim(page, 1, 'catalog');
  const tree = new BTree(pager, PageType.CATALOG_NODE, file.meta.catalogRoot);
  for (const [, value] of tree.range()) {
    const inode = decodeInodeRecord(value);
    if (inode.data.mode !== 'extent-map') continue;
    const map = checkTree(pager, PageType.EXTENT_MAP_NODE, inode.data.root);
    report.problems.push(...map.problems);
    for (const page of map.pages.keys()) claim(page, 1, `extent map of inode ${inode.id}`);
    for (const [, extent] of new BTree(pager, PageType.EXTENT_MAP_NODE, inode.data.root).range()) {
      const record = decodeExtentRecord(extent, 0, pager.pageSize, pageCount);
      claim(record.address, record.pageCount, `extent of inode ${inode.id}`);
    }
  }
  const list = readFreeList(pager, file.meta.freeListHead, pageCount);
  for (const pointer of list.chain) claim(pointer.address, 1, 'free-list chain');
  for (const record of list.records) claim(record.start, record.length, 'free');
  for (let p = 3; p < pageCount; p++) if (!owner.has(p)) report.orphans.push(p);
  return report;
}

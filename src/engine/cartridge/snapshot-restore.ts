/**
 * Snapshot restore (docs/cartridge-format.md §13): the current tree's pages born after
 * the snapshot's generation s are freed (a walk that skips every subtree whose pointer
 * generation is ≤ s, since such a subtree is shared with s), and the snapshot's own pages
 * are taken back out of free space (they are live again).
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import { type BlockPointer, isNullPointer } from './block-pointer.js';
import { BTree } from './btree.js';
import { checkTree } from './btree-check.js';
import { decodeNode } from './btree-node.js';
import { EXTENT_RECORD_SIZE, decodeExtentRecord } from './extent-record.js';
import { decodeInodeRecord } from './inode-record.js';
import { PageType, type PageTypeId } from './page.js';
import { type Pager } from './pager.js';

/** Frees every page and extent of the tree at `root` born after generation `s`. */
export function freeCatalogNewerThan(pager: Pager, root: BlockPointer, s: number): void {
  const walk = (pointer: BlockPointer, type: PageTypeId, leaf: (value: Uint8Array) => void): void => {
    if (isNullPointer(pointer) || pointer.generation <= s) return;
    const node = decodeNode(pager.readPage(pointer, type), pointer.address, pointer.generation, pager.space.pageCount);
    if (node.level > 0) for (const child of node.children) walk(child.pointer, type, leaf);
    else node.values.forEach(leaf);
    pager.freePages(pointer.address, 1, pointer.generation);
  };
  walk(root, PageType.CATALOG_NODE, (value) => {
    const inode = decodeInodeRecord(value);
    if (inode.data.mode === 'extent') {
      const record = decodeExtentRecord(inode.data.record, 0, pager.pageSize, pager.space.pageCount);
      if (record.generation > s) pager.freePages(record.address, record.pageCount, record.generation);
    }
    if (inode.data.mode !== 'extent-map') return;
    walk(inode.data.root, PageType.EXTENT_MAP_NODE, (extent) => {
      if (extent.length !== EXTENT_RECORD_SIZE) return;
      const record = decodeExtentRecord(extent, 0, pager.pageSize, pager.space.pageCount);
      if (record.generation > s) pager.freePages(record.address, record.pageCount, record.generation);
    });
  });
}

/** Takes every page and extent the catalog at `root` reaches out of free space. */
export function reserveCatalog(pager: Pager, root: BlockPointer): void {
  const reserveTree = (type: PageTypeId, treeRoot: BlockPointer) => {
    const check = checkTree(pager, type, treeRoot);
    if (check.problems.length > 0) {
      const first = check.problems[0]!;
      throw new DiskkitError(ErrorCode.CORRUPT, `page ${first.page}: ${first.message}`, { context: { page: first.page } });
    }
    for (const page of check.pages.keys()) pager.space.reserve(page, 1);
  };
  reserveTree(PageType.CATALOG_NODE, root);
  for (const [, value] of new BTree(pager, PageType.CATALOG_NODE, root).range()) {
    const inode = decodeInodeRecord(value);
    if (inode.data.mode === 'extent') {
      const record = decodeExtentRecord(inode.data.record, 0, pager.pageSize, pager.space.pageCount);
      pager.space.reserve(record.address, record.pageCount);
    }
    if (inode.data.mode !== 'extent-map') continue;
    reserveTree(PageType.EXTENT_MAP_NODE, inode.data.root);
    for (const [, extent] of new BTree(pager, PageType.EXTENT_MAP_NODE, inode.data.root).range()) {
      const record = decodeExtentRecord(extent, 0, pager.pageSize, pager.space.pageCount);
      pager.space.reserve(record.address, record.pageCount);
    }
  }
}

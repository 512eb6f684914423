/**
 * Rewriting a tree at new addresses (docs/cartridge-format.md §12, §16): compaction moves
 * pages and extents down inside one file, sealing copies the current tree into a new file.
 * Both are the same walk: a page moves, or is rewritten because a child moved (its pointer
 * changed, so the parent's bytes change: copy-on-write up to the root). Every page and
 * extent is verified on the way (a corrupt image stops the walk with the error naming the
 * page or extent); encrypted ones are re-encrypted, since the address is in their AAD.
 */
import { type BlockPointer, isNullPointer } from './block-pointer.js';
import { type TreeNode, decodeNode, encodeNode } from './btree-node.js';
import { type ExtentContext, openExtent, sealExtent } from './extent-codec.js';
import { EXTENT_RECORD_SIZE, type ExtentRecord, decodeExtentRecord, encodeExtentRecord } from './extent-record.js';
import { decodeInodeRecord, encodeInodeRecord } from './inode-record.js';
import { PageType, type PageTypeId } from './page.js';
import { type Pager } from './pager.js';

export interface RelocationPlan {
  /** Where pages are read (and, in place, freed). */
  source: Pager;
  /** Where moved pages are written: the same pager for compaction, a new file's for seal. */
  target: Pager;
  sourceExtents: ExtentContext;
  targetExtents: ExtentContext;
  /** Should the page or extent at `address` (birth `generation`, `count` pages) move? */
  shouldMove(address: number, count: number, generation: number): boolean;
  /**
   * A new home for `count` pages now at `from`, or null to leave them there. A page that
   * must be rewritten (a child moved) gets a home from `target.allocatePages` regardless.
   */
  place(count: number, from: number): number | null;
  /** In place: the old copy of a moved or rewritten page returns to free space. */
  freeOld: boolean;
}

export interface RelocationCounts {
  pagesMoved: number;
  pagesRewritten: number;
  extentsMoved: number;
  bytesMoved: number;
}

export class Relocator {
  readonly counts: RelocationCounts = { pagesMoved: 0, pagesRewritten: 0, extentsMoved: 0, bytesMoved: 0 };

  constructor(private readonly plan: RelocationPlan) {}

  /** The catalog tree: branches, leaves, and each file's extent map and extents. */
  catalog(root: BlockPointer): BlockPointer {
    return this.tree(root, PageType.CATALOG_NODE, (value) => {
      const inode = decodeInodeRecord(value);
      // Packs and one-extent files (§7.5, §7.2 mode 2): the record is in the entry itself.
      if (inode.data.mode === 'extent') {
        const moved = this.extent(inode.data.record);
        return moved === null ? null : encodeInodeRecord({ ...inode, data: { mode: 'extent', record: moved } });
      }
      if (inode.data.mode !== 'extent-map') return null;
      const moved = this.tree(inode.data.root, PageType.EXTENT_MAP_NODE, (extent) => this.extent(extent));
      return moved === inode.data.root ? null : encodeInodeRecord({ ...inode, data: { mode: 'extent-map', root: moved } });
    });
  }

  /** The snapshot table: its own pages only (snapshot catalogs stay where they are). */
  snapshotTable(root: BlockPointer): BlockPointer {
    return this.tree(root, PageType.SNAPSHOT_NODE, () => null);
  }

  /**
   * Rewrites the tree at `root`; `leafValue` returns a replacement for a leaf value whose
   * children moved, or null. Returns the same pointer object when nothing changed.
   */
  private tree(root: BlockPointer, type: PageTypeId, leafValue: (value: Uint8Array) => Uint8Array | null): BlockPointer {
    if (isNullPointer(root)) return root;
    const { source } = this.plan;
    const visit = (pointer: BlockPointer): BlockPointer => {
      const node = decodeNode(source.readPage(pointer, type), pointer.address, pointer.generation, source.space.pageCount);
      let changed = false;
      if (node.level > 0) {
        for (const child of node.children) {
          const moved = visit(child.pointer);
          if (moved !== child.pointer) {
            child.pointer = moved;
            changed = true;
          }
        }
      } else {
        node.values = node.values.map((value) => {
          const replaced = leafValue(value);
          if (replaced === null) return value;
          changed = true;
          return replaced;
        });
      }
      return this.writeNode(node, pointer, type, changed);
    };
    return visit(root);
  }

  private writeNode(node: TreeNode, old: BlockPointer, type: PageTypeId, changed: boolean): BlockPointer {
    const { target } = this.plan;
    const move = this.plan.shouldMove(old.address, 1, old.generation);
    if (!changed && !move) return old;
    const placed = move ? this.plan.place(1, old.address) : null;
    if (placed === null && !changed) return old;
    const address = placed ?? target.allocatePages(1);
    const page = new Uint8Array(target.pageSize);
    encodeNode(node, page);
    const pointer = target.writePage(page, type, address);
    if (this.plan.freeOld) this.plan.source.freePages(old.address, 1, old.generation);
    if (placed !== null) this.counts.pagesMoved++;
    else this.counts.pagesRewritten++;
    return pointer;
  }

  /** An extent-map value: the extent moves (verified, re-sealed at its new address) or stays. */
  private extent(value: Uint8Array): Uint8Array | null {
    const { source, target, sourceExtents, targetExtents } = this.plan;
    if (value.length !== EXTENT_RECORD_SIZE) return null;
    const record = decodeExtentRecord(value, 0, source.pageSize, source.space.pageCount);
    if (!this.plan.shouldMove(record.address, record.pageCount, record.generation)) return null;
    const address = this.plan.place(record.pageCount, record.address);
    if (address === null) return null;
    // Read into the pager's reused buffer (a fresh megabyte per extent cost more in page
    // faults than the copy) and verified; never decompressed: the stored form moves as it is.
    const raw = source.readRawScratch(record.address, record.pageCount);
    const bytes = openExtent(raw, record, sourceExtents);
    let moved: ExtentRecord;
    if (sourceExtents.dataKey === null && targetExtents.dataKey === null && sourceExtents.checksumAlgorithm === targetExtents.checksumAlgorithm) {
      // Plain: the checksum covers the stored bytes only, not the address (§9.1), so the
      // seal just verified is the new one too; the bytes go out as they were read.
      moved = { ...record, address, generation: target.generation };
      target.writeRaw(address, bytes);
    } else {
      // Encrypted: the address is in the AAD (§10.2), so decrypt (done above) and encrypt again.
      const sealed = sealExtent({ bytes, compression: record.compression, logicalLength: record.logicalLength }, address, target.generation, targetExtents);
      moved = sealed.record;
      target.writeRaw(address, sealed.stored);
    }
    if (this.plan.freeOld) source.freePages(record.address, record.pageCount, record.generation);
    this.counts.extentsMoved++;
    this.counts.bytesMoved += record.storedLength;
    return encodeExtentRecord(moved);
  }
}

/**
 * Bottom-up B+tree build from sorted input (docs/cartridge-format.md §7.1 "Bulk build"):
 * leaves are filled to ~90% and written as soon as the next one starts, so memory holds
 * two nodes per level and every page is written once. The last two nodes of each level
 * are rebalanced so neither is under the quarter-full minimum.
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import { type BlockPointer, NULL_POINTER } from './block-pointer.js';
import { type TreeNode, MAX_TREE_HEIGHT, compareKeys, encodeNode, encodedSize, maxKeyLength, maxLeafEntry, minFill, nodeCapacity } from './btree-node.js';
import { splitEvenly } from './btree.js';
import { type PageTypeId } from './page.js';
import { type Pager } from './pager.js';

interface LevelBuilder {
  pending: TreeNode | null;
  pendingFirst: Uint8Array | null;
  open: TreeNode;
  openFirst: Uint8Array | null;
  /** encodedSize(open), kept as entries are added (recomputing it per entry was quadratic in a node's entries). */
  openSize: number;
}

export const BULK_FILL = 0.9;

export function bulkBuild(pager: Pager, type: PageTypeId, entries: Iterable<readonly [Uint8Array, Uint8Array]>, fill = BULK_FILL): BlockPointer {
  const pageSize = pager.pageSize;
  const target = Math.floor(nodeCapacity(pageSize) * fill);
  const levels: LevelBuilder[] = [];
  const emptyNode = (level: number): TreeNode => ({ level, keys: [], values: [], children: [], generation: 0, address: 0 });
  const builder = (level: number): LevelBuilder => {
    if (level >= MAX_TREE_HEIGHT) throw new DiskkitError(ErrorCode.LIMIT, 'bulk build would exceed the maximum tree height');
    levels[level] ??= { pending: null, pendingFirst: null, open: emptyNode(level), openFirst: null, openSize: 0 };
    return levels[level]!;
  };
  const write = (node: TreeNode): BlockPointer => {
    const page = new Uint8Array(pageSize);
    encodeNode(node, page);
    const pointer = pager.writePage(page, type, pager.allocatePages(1));
    node.address = pointer.address;
    node.generation = pointer.generation;
    // Only branches are kept in the cache: a leaf built here holds one allocation per key
    // and value, and a million-entry import must not keep thousands of them (a later
    // lookup reads the leaf back, in the compact form decodeNode makes).
    if (node.level > 0) pager.remember(pointer, node);
    return pointer;
  };
  const appendTo = (node: TreeNode, key: Uint8Array, item: Uint8Array | BlockPointer): void => {
    if (node.level === 0) {
      node.keys.push(key);
      node.values.push(item as Uint8Array);
    } else {
      if (node.children.length > 0) node.keys.push(key);
      node.children.push({ pointer: item as BlockPointer, node: null });
    }
  };
  const itemSize = (node: TreeNode, key: Uint8Array, item: Uint8Array | BlockPointer): number =>
    node.level === 0 ? 4 + key.length + (item as Uint8Array).length : node.children.length === 0 ? 48 : 50 + key.length;

  const add = (level: number, key: Uint8Array, item: Uint8Array | BlockPointer): void => {
    const b = builder(level);
    const hasEntries = level === 0 ? b.open.keys.length > 0 : b.open.children.length > 0;
    let size = itemSize(b.open, key, item);
    if (hasEntries && b.openSize + size > target) {
      if (b.pending) add(level + 1, b.pendingFirst!, write(b.pending));
      b.pending = b.open;
      b.pendingFirst = b.openFirst;
      b.open = emptyNode(level);
      b.openFirst = null;
      b.openSize = 0;
      size = itemSize(b.open, key, item);
    }
    if (b.openFirst === null) b.openFirst = key;
    appendTo(b.open, key, item);
    b.openSize += size;
  };

  let previous: Uint8Array | null = null;
  for (const [key, value] of entries) {
    if (key.length < 1 || key.length > maxKeyLength(pageSize) || 4 + key.length + value.length > maxLeafEntry(pageSize)) {
      throw new DiskkitError(ErrorCode.LIMIT, `entry of key ${key.length} and value ${value.length} bytes is too large`, { context: { length: key.length + value.length } });
    }
    if (previous && compareKeys(previous, key) >= 0) throw new DiskkitError(ErrorCode.USAGE, 'bulk build input is not strictly sorted', { context: { index: 'key order' } });
    previous = key;
    add(0, key, value);
  }
  if (levels.length === 0) return NULL_POINTER;

  for (let level = 0; ; level++) {
    const b = levels[level]!;
    if (!b.pending && !levels[level + 1]) {
      // The top: a branch left with one child (the level below merged into one node) is not a root; its child is.
      if (level > 0 && b.open.children.length === 1) return b.open.children[0]!.pointer;
      return write(b.open);
    }
    const open = b.open;
    const openCount = level === 0 ? open.keys.length : open.children.length;
    if (!b.pending) {
      // Only reached when this level already pushed nodes up: the open node is its last.
      add(level + 1, b.openFirst!, write(open));
    } else if (openCount === 0) {
      add(level + 1, b.pendingFirst!, write(b.pending));
    } else if (encodedSize(open) >= minFill(pageSize)) {
      add(level + 1, b.pendingFirst!, write(b.pending));
      add(level + 1, b.openFirst!, write(open));
    } else {
      const pending = b.pending;
      const combined: TreeNode = {
        level,
        keys: level === 0 ? [...pending.keys, ...open.keys] : [...pending.keys, b.openFirst!, ...open.keys],
        values: [...pending.values, ...open.values],
        children: [...pending.children, ...open.children],
        generation: 0,
        address: 0,
      };
      if (encodedSize(combined) <= nodeCapacity(pageSize)) {
        add(level + 1, b.pendingFirst!, write(combined));
      } else {
        const halves = splitEvenly(combined);
        add(level + 1, b.pendingFirst!, write(halves.left));
        add(level + 1, halves.separator, write(halves.right));
      }
    }
  }
}

/**
 * Structural check of a B+tree (docs/cartridge-format.md §7.1, §11 I2/I5) for fsck and
 * tests: every page verifies against its pointer, leaves share one depth, keys respect
 * the separators above them, non-root nodes are at least a quarter full, and no page is
 * reached twice. Problems are collected, not thrown, so one bad page does not hide others.
 */
import { isDiskkitError } from '../errors.js';
import { type BlockPointer, isNullPointer } from './block-pointer.js';
import { type TreeNode, MAX_TREE_HEIGHT, compareKeys, decodeNode, encodedSize, minFill, nodeCapacity } from './btree-node.js';
import { type PageTypeId } from './page.js';
import { type Pager } from './pager.js';

export interface TreeCheck {
  height: number;
  nodes: number;
  entries: number;
  /** Every page the tree reaches, with its birth generation. */
  pages: Map<number, number>;
  problems: { page: number; message: string }[];
}

export function checkTree(pager: Pager, type: PageTypeId, root: BlockPointer): TreeCheck {
  const result: TreeCheck = { height: 0, nodes: 0, entries: 0, pages: new Map(), problems: [] };
  if (isNullPointer(root)) return result;
  const pageSize = pager.pageSize;
  let leafDepth = -1;
  const visit = (pointer: BlockPointer, depth: number, low: Uint8Array | null, high: Uint8Array | null, isRoot: boolean, expectedLevel: number | null): void => {
    const problem = (message: string): void => {
      result.problems.push({ page: pointer.address, message });
    };
    if (depth >= MAX_TREE_HEIGHT) return problem('tree deeper than the format allows');
    if (result.pages.has(pointer.address)) return problem('page reached twice');
    result.pages.set(pointer.address, pointer.generation);
    let node: TreeNode;
    try {
      node = decodeNode(pager.readPage(pointer, type), pointer.address, pointer.generation, pager.space.pageCount);
    } catch (error) {
      if (isDiskkitError(error)) return problem(error.message);
      throw error;
    }
    result.nodes++;
    if (expectedLevel !== null && node.level !== expectedLevel) problem(`level ${node.level}, expected ${expectedLevel}`);
    const size = encodedSize(node);
    if (size > nodeCapacity(pageSize)) problem(`node of ${size} bytes overflows the page`);
    if (!isRoot && size < minFill(pageSize)) problem(`node of ${size} bytes is under the minimum fill ${minFill(pageSize)}`);
    for (const key of node.keys) {
      if ((low && compareKeys(key, low) < 0) || (high && compareKeys(key, high) >= 0)) {
        problem('key outside the range its parent gives');
        break;
      }
    }
    if (node.level === 0) {
      if (leafDepth === -1) leafDepth = depth;
      else if (leafDepth !== depth) problem(`leaf at depth ${depth}, other leaves at ${leafDepth}`);
      result.entries += node.keys.length;
      result.height = Math.max(result.height, depth + 1);
      return;
    }
    for (let i = 0; i < node.children.length; i++) {
      const childLow = i === 0 ? low : node.keys[i - 1]!;
      const childHigh = i === node.children.length - 1 ? high : node.keys[i]!;
      visit(node.children[i]!.pointer, depth + 1, childLow, childHigh, false, node.level - 1);
    }
  };
  visit(root, 0, null, null, true, null);
  return result;
}

/**
 * B+tree node pages (docs/cartridge-format.md §7.1), shared by the catalog, extent maps
 * and the snapshot table: a level, a count, and packed entries; leaves hold key → value,
 * branches hold child pointers separated by keys.
 */
import { readU16LE, readU32LE, readU8, writeU16LE, writeU32LE, writeU8 } from '../binary.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { type BlockPointer, BLOCK_POINTER_SIZE, decodeBlockPointer, encodeBlockPointer } from './block-pointer.js';
import { PAGE_HEADER_SIZE } from './page.js';

const LEVEL_OFFSET = PAGE_HEADER_SIZE; // 64
const COUNT_OFFSET = PAGE_HEADER_SIZE + 2; // 66
const USED_OFFSET = PAGE_HEADER_SIZE + 4; // 68
export const NODE_ENTRIES_OFFSET = PAGE_HEADER_SIZE + 8; // 72
/** A reader refuses deeper trees, so a corrupt image cannot send it down a cycle forever. */
export const MAX_TREE_HEIGHT = 16;
const LEAF_ENTRY_OVERHEAD = 4;
const BRANCH_ENTRY_OVERHEAD = 2 + BLOCK_POINTER_SIZE;

/** A child of a branch: its on-disk pointer, or the in-memory node that replaces it in this transaction. */
export interface ChildRef {
  pointer: BlockPointer;
  node: TreeNode | null;
}

export interface TreeNode {
  level: number;
  /** Leaf: entry keys. Branch: separators, one fewer than children (separator i-1 precedes child i). */
  keys: Uint8Array[];
  /** Leaf only. */
  values: Uint8Array[];
  /** Branch only. */
  children: ChildRef[];
  /** Birth generation of the page this node was read from (0 for a node not yet written). */
  generation: number;
  /** Page it was read from (0 for a node not yet written). */
  address: number;
}

/** Bytes available for entries in one page. */
export function nodeCapacity(pageSize: number): number {
  return pageSize - NODE_ENTRIES_OFFSET;
}

/** Largest leaf entry (key + value + 4): a split always leaves two legal halves (§7.1). */
export function maxLeafEntry(pageSize: number): number {
  return Math.floor(nodeCapacity(pageSize) / 4);
}

/** Largest key: a branch entry (key + 50) of at most an eighth of the page keeps both halves of a branch split at least a quarter full. */
export function maxKeyLength(pageSize: number): number {
  return Math.floor(nodeCapacity(pageSize) / 8) - BRANCH_ENTRY_OVERHEAD;
}

/** Non-root nodes are at least this full once a delete has been rebalanced. */
export function minFill(pageSize: number): number {
  return Math.floor(nodeCapacity(pageSize) / 4);
}

export function encodedSize(node: TreeNode): number {
  let size = 0;
  if (node.level === 0) {
    for (let i = 0; i < node.keys.length; i++) size += LEAF_ENTRY_OVERHEAD + node.keys[i]!.length + node.values[i]!.length;
  } else {
    size = BLOCK_POINTER_SIZE;
    for (const key of node.keys) size += BRANCH_ENTRY_OVERHEAD + key.length;
  }
  return size;
}

/**
 * memcmp order, shorter prefix first. A plain loop: keys are short (a catalog key is 8
 * bytes of parent id and a name) and differ early, and the loop costs less than the
 * native call Buffer.compare makes, which was a tenth of a lookup's time.
 */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Fills the payload of `page` (header left to sealPage). Children must all have pointers. */
export function encodeNode(node: TreeNode, page: Uint8Array): void {
  const used = encodedSize(node);
  if (used > nodeCapacity(page.length)) throw new Error(`node of ${used} bytes does not fit a ${page.length}-byte page`);
  page.fill(0, PAGE_HEADER_SIZE);
  writeU8(page, LEVEL_OFFSET, node.level);
  let at = NODE_ENTRIES_OFFSET;
  if (node.level === 0) {
    writeU16LE(page, COUNT_OFFSET, node.keys.length);
    for (let i = 0; i < node.keys.length; i++) {
      const key = node.keys[i]!;
      const value = node.values[i]!;
      writeU16LE(page, at, key.length);
      writeU16LE(page, at + 2, value.length);
      page.set(key, at + 4);
      page.set(value, at + 4 + key.length);
      at += LEAF_ENTRY_OVERHEAD + key.length + value.length;
    }
  } else {
    writeU16LE(page, COUNT_OFFSET, node.children.length);
    encodeBlockPointer(node.children[0]!.pointer, page, at);
    at += BLOCK_POINTER_SIZE;
    for (let i = 1; i < node.children.length; i++) {
      const key = node.keys[i - 1]!;
      writeU16LE(page, at, key.length);
      page.set(key, at + 2);
      encodeBlockPointer(node.children[i]!.pointer, page, at + 2 + key.length);
      at += BRANCH_ENTRY_OVERHEAD + key.length;
    }
  }
  writeU32LE(page, USED_OFFSET, used);
}

/**
 * A leaf as read from disk: the verified page and where each entry starts. Lookups and
 * scans compare keys inside the page and cut out only the entries they return, so a
 * cached leaf costs its page plus one small array, not two objects per entry (a cache of
 * 4096 leaves of ~60 entries had cost over 150 MiB and most of a lookup's time in the
 * garbage collector). `keys` and `values` exist for the code that edits a node: first
 * use builds them, as views into the page.
 */
export class PackedLeaf implements TreeNode {
  readonly level = 0;
  readonly children: ChildRef[] = [];
  generation: number;
  address: number;
  private readonly page: Uint8Array;
  /** Offset of entry i's header (u16 keyLength, u16 valueLength) in the page. */
  private readonly starts: Uint32Array;
  private keyList: Uint8Array[] | null = null;
  private valueList: Uint8Array[] | null = null;

  constructor(page: Uint8Array, starts: Uint32Array, address: number, generation: number) {
    this.page = page;
    this.starts = starts;
    this.address = address;
    this.generation = generation;
  }

  get count(): number {
    return this.starts.length;
  }

  keyAt(i: number): Uint8Array {
    const at = this.starts[i]!;
    return this.page.subarray(at + 4, at + 4 + readU16LE(this.page, at));
  }

  valueAt(i: number): Uint8Array {
    const at = this.starts[i]!;
    const keyLength = readU16LE(this.page, at);
    return this.page.subarray(at + 4 + keyLength, at + 4 + keyLength + readU16LE(this.page, at + 2));
  }

  /** compareKeys(key i, key) without cutting key i out of the page. */
  compareAt(i: number, key: Uint8Array): number {
    const page = this.page;
    const at = this.starts[i]!;
    const length = readU16LE(page, at);
    const n = length < key.length ? length : key.length;
    for (let j = 0; j < n; j++) {
      const d = page[at + 4 + j]! - key[j]!;
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    return length === key.length ? 0 : length < key.length ? -1 : 1;
  }

  /** Index of `key`, or ~insertionPoint (as `search`). */
  search(key: Uint8Array): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compareAt(mid, key);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return ~lo;
  }

  get keys(): Uint8Array[] {
    this.keyList ??= Array.from({ length: this.count }, (_, i) => this.keyAt(i));
    return this.keyList;
  }

  set keys(keys: Uint8Array[]) {
    this.keyList = keys;
  }

  get values(): Uint8Array[] {
    this.valueList ??= Array.from({ length: this.count }, (_, i) => this.valueAt(i));
    return this.valueList;
  }

  set values(values: Uint8Array[]) {
    this.valueList = values;
  }
}

/** Compares bytes [aAt, aAt + aLength) of `page` with [bAt, bAt + bLength) (memcmp order). */
function compareInPage(page: Uint8Array, aAt: number, aLength: number, bAt: number, bLength: number): number {
  const n = aLength < bLength ? aLength : bLength;
  for (let j = 0; j < n; j++) {
    const d = page[aAt + j]! - page[bAt + j]!;
    if (d !== 0) return d;
  }
  return aLength - bLength;
}

/**
 * Decodes a verified node page. Every length is checked against `usedBytes` and the page;
 * keys must strictly increase; child addresses must lie inside the image.
 *
 * Keys and values are views into `page`, not copies (a leaf is a PackedLeaf). The page
 * must not be reused, and callers must not write into what `get` or `range` return.
 */
export function decodeNode(page: Uint8Array, address: number, generation: number, pageCount: number): TreeNode {
  const bad = (what: string) => new DiskkitError(ErrorCode.CORRUPT, `page ${address}: B+tree node ${what}`, { context: { page: address } });
  const level = readU8(page, LEVEL_OFFSET);
  const count = readU16LE(page, COUNT_OFFSET);
  const used = readU32LE(page, USED_OFFSET);
  if (level >= MAX_TREE_HEIGHT) throw bad(`level ${level} exceeds ${MAX_TREE_HEIGHT - 1}`);
  if (used > nodeCapacity(page.length)) throw bad(`claims ${used} bytes`);
  const end = NODE_ENTRIES_OFFSET + used;
  let at = NODE_ENTRIES_OFFSET;
  if (level === 0) {
    const starts = new Uint32Array(count);
    let previousAt = -1;
    let previousLength = 0;
    for (let i = 0; i < count; i++) {
      if (at + 4 > end) throw bad(`entry runs past its used bytes (${used})`);
      const keyLength = readU16LE(page, at);
      const valueLength = readU16LE(page, at + 2);
      if (at + 4 + keyLength + valueLength > end) throw bad(`entry runs past its used bytes (${used})`);
      if (previousAt >= 0 && compareInPage(page, previousAt, previousLength, at + 4, keyLength) >= 0) throw bad('keys out of order');
      starts[i] = at;
      previousAt = at + 4;
      previousLength = keyLength;
      at += 4 + keyLength + valueLength;
    }
    if (at !== end) throw bad(`entries end at ${at - NODE_ENTRIES_OFFSET}, usedBytes says ${used}`);
    return new PackedLeaf(page, starts, address, generation);
  }
  const node: TreeNode = { level, keys: [], values: [], children: [], generation, address };
  const take = (length: number): Uint8Array => {
    if (at + length > end) throw bad(`entry runs past its used bytes (${used})`);
    const bytes = page.subarray(at, at + length);
    at += length;
    return bytes;
  };
  const pushKey = (key: Uint8Array) => {
    const previous = node.keys[node.keys.length - 1];
    if (previous && compareKeys(previous, key) >= 0) throw bad('keys out of order');
    node.keys.push(key);
  };
  if (count < 2) throw bad(`branch with ${count} children`);
  for (let i = 0; i < count; i++) {
    if (i > 0) pushKey(take(readU16LE(take(2), 0)));
    const pointer = decodeBlockPointer(take(BLOCK_POINTER_SIZE));
    if (pointer.address < 3 || pointer.address >= pageCount) throw bad(`child pointer to page ${pointer.address} outside the image`);
    node.children.push({ pointer, node: null });
  }
  if (at !== end) throw bad(`entries end at ${at - NODE_ENTRIES_OFFSET}, usedBytes says ${used}`);
  return node;
}

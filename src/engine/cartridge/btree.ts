/**
 * A copy-on-write B+tree over pager pages (docs/cartridge-format.md §7.1): lookups read
 * one node per level; a change copies the path from the leaf to the root into memory
 * (each old page is freed under the §8 rule) and `flush` writes the changed nodes
 * bottom-up, so each parent stores its children's fresh checksums. Nodes changed twice
 * in one transaction are copied once.
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import { type BlockPointer, NULL_POINTER, isNullPointer } from './block-pointer.js';
import {
  type ChildRef,
  type TreeNode,
  MAX_TREE_HEIGHT,
  compareKeys,
  decodeNode,
  encodeNode,
  encodedSize,
  maxKeyLength,
  maxLeafEntry,
  minFill,
  nodeCapacity,
  PackedLeaf,
} from './btree-node.js';
import { type PageTypeId } from './page.js';
import { type Pager } from './pager.js';

export class BTree {
  private readonly pager: Pager;
  readonly type: PageTypeId;
  private root: ChildRef | null;
  /** Nodes copied into memory in this transaction (unwritten). */
  private readonly dirty = new WeakSet<TreeNode>();

  constructor(pager: Pager, type: PageTypeId, root: BlockPointer) {
    this.pager = pager;
    this.type = type;
    this.root = isNullPointer(root) ? null : { pointer: root, node: null };
  }

  private get capacity(): number {
    return nodeCapacity(this.pager.pageSize);
  }

  /** The node a reference names: the in-memory copy, or the verified page (through the cache). */
  private load(ref: ChildRef, expectedLevel: number | null): TreeNode {
    if (ref.node) return ref.node;
    const { pointer } = ref;
    const node = this.pager.readDecoded(pointer, this.type, (page) => decodeNode(page, pointer.address, pointer.generation, this.pager.space.pageCount));
    if (expectedLevel !== null && node.level !== expectedLevel) {
      throw new DiskkitError(ErrorCode.CORRUPT, `page ${pointer.address}: B+tree node at level ${node.level} where level ${expectedLevel} belongs`, { context: { page: pointer.address } });
    }
    return node;
  }

  /** Copy-on-write: an in-memory node that may be changed; the page it came from is freed. */
  private writable(ref: ChildRef, expectedLevel: number | null): TreeNode {
    if (ref.node && this.dirty.has(ref.node)) return ref.node;
    const source = this.load(ref, expectedLevel);
    const copy: TreeNode = {
      level: source.level,
      keys: source.keys.slice(),
      values: source.values.slice(),
      children: source.children.map((c) => ({ pointer: c.pointer, node: c.node })),
      generation: 0,
      address: 0,
    };
    if (ref.pointer.address !== 0) this.pager.freePages(ref.pointer.address, 1, ref.pointer.generation);
    ref.pointer = NULL_POINTER;
    ref.node = copy;
    this.dirty.add(copy);
    return copy;
  }

  private newNode(level: number): TreeNode {
    const node: TreeNode = { level, keys: [], values: [], children: [], generation: 0, address: 0 };
    this.dirty.add(node);
    return node;
  }

  get isEmpty(): boolean {
    return this.root === null;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    if (!this.root) return undefined;
    let node = this.load(this.root, null);
    for (let depth = 0; node.level > 0; depth++) {
      if (depth >= MAX_TREE_HEIGHT) throw new DiskkitError(ErrorCode.CORRUPT, 'B+tree deeper than the format allows');
      node = this.load(node.children[childIndex(node, key)]!, node.level - 1);
    }
    if (node instanceof PackedLeaf) {
      const i = node.search(key);
      return i >= 0 ? node.valueAt(i) : undefined;
    }
    const i = search(node.keys, key);
    return i >= 0 ? node.values[i] : undefined;
  }

  /** Inserts or replaces. */
  put(key: Uint8Array, value: Uint8Array): void {
    const pageSize = this.pager.pageSize;
    if (key.length < 1 || key.length > maxKeyLength(pageSize)) throw new DiskkitError(ErrorCode.LIMIT, `key of ${key.length} bytes (1..${maxKeyLength(pageSize)})`, { context: { length: key.length } });
    if (4 + key.length + value.length > maxLeafEntry(pageSize)) {
      throw new DiskkitError(ErrorCode.LIMIT, `entry of ${4 + key.length + value.length} bytes exceeds ${maxLeafEntry(pageSize)}`, { context: { length: value.length } });
    }
    if (!this.root) {
      const leaf = this.newNode(0);
      leaf.keys.push(key);
      leaf.values.push(value);
      this.root = { pointer: NULL_POINTER, node: leaf };
      return;
    }
    const root = this.writable(this.root, null);
    this.insertInto(root, key, value);
    if (encodedSize(root) > this.capacity) {
      const { right, separator } = this.split(root);
      const top = this.newNode(root.level + 1);
      top.children.push({ pointer: NULL_POINTER, node: root }, { pointer: NULL_POINTER, node: right });
      top.keys.push(separator);
      this.root = { pointer: NULL_POINTER, node: top };
    }
  }

  private insertInto(node: TreeNode, key: Uint8Array, value: Uint8Array): void {
    if (node.level === 0) {
      const i = search(node.keys, key);
      if (i >= 0) node.values[i] = value;
      else {
        node.keys.splice(~i, 0, key);
        node.values.splice(~i, 0, value);
      }
      return;
    }
    const i = childIndex(node, key);
    this.insertInto(this.writable(node.children[i]!, node.level - 1), key, value);
    this.fixChild(node, i);
  }

  /** Deletes `key`; false when it was not there (and nothing is copied). */
  delete(key: Uint8Array): boolean {
    if (!this.root || this.get(key) === undefined) return false;
    const root = this.writable(this.root, null);
    this.deleteFrom(root, key);
    if (root.level > 0 && root.children.length === 1) {
      this.root = root.children[0]!;
    } else if (root.level === 0 && root.keys.length === 0) {
      this.root = null;
    }
    return true;
  }

  private deleteFrom(node: TreeNode, key: Uint8Array): void {
    if (node.level === 0) {
      const i = search(node.keys, key);
      node.keys.splice(i, 1);
      node.values.splice(i, 1);
      return;
    }
    const i = childIndex(node, key);
    this.deleteFrom(this.writable(node.children[i]!, node.level - 1), key);
    this.fixChild(node, i);
  }

  /** After child i changed: split it if it overflows, rebalance it with a sibling if it underflows. */
  private fixChild(parent: TreeNode, i: number): void {
    const child = parent.children[i]!.node!;
    const size = encodedSize(child);
    if (size > this.capacity) {
      const { right, separator } = this.split(child);
      parent.children.splice(i + 1, 0, { pointer: NULL_POINTER, node: right });
      parent.keys.splice(i, 0, separator);
    } else if (size < minFill(this.pager.pageSize) && parent.children.length > 1) {
      this.rebalance(parent, i);
    }
  }

  /** Merges child i with a sibling when both fit one page, else shares their entries evenly. */
  private rebalance(parent: TreeNode, i: number): void {
    const l = i > 0 ? i - 1 : i;
    const left = this.writable(parent.children[l]!, parent.level - 1);
    const right = this.writable(parent.children[l + 1]!, parent.level - 1);
    const combined: TreeNode = {
      level: left.level,
      keys: left.level === 0 ? [...left.keys, ...right.keys] : [...left.keys, parent.keys[l]!, ...right.keys],
      values: [...left.values, ...right.values],
      children: [...left.children, ...right.children],
      generation: 0,
      address: 0,
    };
    if (encodedSize(combined) <= this.capacity) {
      left.keys = combined.keys;
      left.values = combined.values;
      left.children = combined.children;
      parent.children.splice(l + 1, 1);
      parent.keys.splice(l, 1);
      return;
    }
    const halves = splitEvenly(combined);
    left.keys = halves.left.keys;
    left.values = halves.left.values;
    left.children = halves.left.children;
    right.keys = halves.right.keys;
    right.values = halves.right.values;
    right.children = halves.right.children;
    parent.keys[l] = halves.separator;
  }

  private split(node: TreeNode): { right: TreeNode; separator: Uint8Array } {
    const halves = splitEvenly(node);
    node.keys = halves.left.keys;
    node.values = halves.left.values;
    node.children = halves.left.children;
    const right = this.newNode(node.level);
    right.keys = halves.right.keys;
    right.values = halves.right.values;
    right.children = halves.right.children;
    return { right, separator: halves.separator };
  }

  /** Entries with from ≤ key < to (to omitted: to the end), in key order. */
  *range(from: Uint8Array = new Uint8Array(0), to?: Uint8Array): Generator<[Uint8Array, Uint8Array]> {
    if (!this.root) return;
    yield* this.scan(this.load(this.root, null), from, to, 0);
  }

  /**
   * range() without a generator: `visit(key, value)` for each entry with from ≤ key < to, in
   * key order. A directory listing goes this way: a cp -r out lists every entry of the tree,
   * and three nested generators (scan, range, the caller's) per entry cost more than the
   * entry's decoding.
   */
  forEachInRange(from: Uint8Array, to: Uint8Array, visit: (key: Uint8Array, value: Uint8Array) => void): void {
    if (this.root) this.visitRange(this.load(this.root, null), from, to, 0, visit);
  }

  /** Returns false once a key reaches `to` (nothing further right can be in range). */
  private visitRange(node: TreeNode, from: Uint8Array, to: Uint8Array, depth: number, visit: (key: Uint8Array, value: Uint8Array) => void): boolean {
    if (depth >= MAX_TREE_HEIGHT) throw new DiskkitError(ErrorCode.CORRUPT, 'B+tree deeper than the format allows');
    if (node instanceof PackedLeaf) {
      let i = node.search(from);
      if (i < 0) i = ~i;
      for (; i < node.count; i++) {
        if (node.compareAt(i, to) >= 0) return false;
        visit(node.keyAt(i), node.valueAt(i));
      }
      return true;
    }
    if (node.level === 0) {
      let i = search(node.keys, from);
      if (i < 0) i = ~i;
      for (; i < node.keys.length; i++) {
        if (compareKeys(node.keys[i]!, to) >= 0) return false;
        visit(node.keys[i]!, node.values[i]!);
      }
      return true;
    }
    for (let i = childIndex(node, from); i < node.children.length; i++) {
      if (i > 0 && compareKeys(node.keys[i - 1]!, to) >= 0) return false;
      if (!this.visitRange(this.load(node.children[i]!, node.level - 1), from, to, depth + 1, visit)) return false;
    }
    return true;
  }

  private *scan(node: TreeNode, from: Uint8Array, to: Uint8Array | undefined, depth: number): Generator<[Uint8Array, Uint8Array]> {
    if (depth >= MAX_TREE_HEIGHT) throw new DiskkitError(ErrorCode.CORRUPT, 'B+tree deeper than the format allows');
    if (node instanceof PackedLeaf) {
      let i = node.search(from);
      if (i < 0) i = ~i;
      for (; i < node.count; i++) {
        if (to && node.compareAt(i, to) >= 0) return;
        yield [node.keyAt(i), node.valueAt(i)];
      }
      return;
    }
    if (node.level === 0) {
      let i = search(node.keys, from);
      if (i < 0) i = ~i;
      for (; i < node.keys.length; i++) {
        if (to && compareKeys(node.keys[i]!, to) >= 0) return;
        yield [node.keys[i]!, node.values[i]!];
      }
      return;
    }
    for (let i = childIndex(node, from); i < node.children.length; i++) {
      if (i > 0 && to && compareKeys(node.keys[i - 1]!, to) >= 0) return;
      yield* this.scan(this.load(node.children[i]!, node.level - 1), from, to, depth + 1);
    }
  }

  /** Writes every node changed in this transaction, children first; returns the root pointer. */
  flush(): BlockPointer {
    if (!this.root) return NULL_POINTER;
    this.root.pointer = this.flushRef(this.root);
    this.root.node = null;
    return this.root.pointer;
  }

  private flushRef(ref: ChildRef): BlockPointer {
    const node = ref.node;
    if (!node || !this.dirty.has(node)) return ref.pointer;
    for (const child of node.children) {
      child.pointer = this.flushRef(child);
      child.node = null;
    }
    const page = new Uint8Array(this.pager.pageSize);
    encodeNode(node, page);
    const address = this.pager.allocatePages(1);
    const pointer = this.pager.writePage(page, this.type, address);
    this.dirty.delete(node);
    node.address = address;
    node.generation = pointer.generation;
    this.pager.remember(pointer, node);
    return pointer;
  }

  /** Root pointer as last flushed (null pointer for an empty tree). */
  get rootPointer(): BlockPointer {
    return this.root ? this.root.pointer : NULL_POINTER;
  }
}

/** Index of `key` in sorted `keys`, or ~insertionPoint. */
export function search(keys: Uint8Array[], key: Uint8Array): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(keys[mid]!, key);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return ~lo;
}

/** The child whose range holds `key`: the number of separators ≤ key. */
function childIndex(node: TreeNode, key: Uint8Array): number {
  let lo = 0;
  let hi = node.keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(node.keys[mid]!, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Splits at the byte midpoint (§7.1): the left half takes entries until it holds half the
 * bytes. A branch's middle separator moves up instead of staying in either half.
 */
export function splitEvenly(node: TreeNode): { left: TreeNode; right: TreeNode; separator: Uint8Array } {
  const total = encodedSize(node);
  const make = (level: number): TreeNode => ({ level, keys: [], values: [], children: [], generation: 0, address: 0 });
  const left = make(node.level);
  const right = make(node.level);
  if (node.level === 0) {
    let size = 0;
    let m = 0;
    while (m < node.keys.length - 1 && size < total / 2) {
      size += 4 + node.keys[m]!.length + node.values[m]!.length;
      m++;
    }
    m = Math.max(1, m);
    left.keys = node.keys.slice(0, m);
    left.values = node.values.slice(0, m);
    right.keys = node.keys.slice(m);
    right.values = node.values.slice(m);
    return { left, right, separator: right.keys[0]! };
  }
  // Children 0..m-1 go left, m.. go right; separator m-1 moves up.
  let size = 48;
  let m = 1;
  while (m < node.children.length - 1 && size < total / 2) {
    size += 50 + node.keys[m - 1]!.length;
    m++;
  }
  left.children = node.children.slice(0, m);
  left.keys = node.keys.slice(0, m - 1);
  right.children = node.children.slice(m);
  right.keys = node.keys.slice(m);
  return { left, right, separator: node.keys[m - 1]! };
}

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BTree } from '../../src/engine/cartridge/btree.js';
import { bulkBuild } from '../../src/engine/cartridge/btree-bulk.js';
import { checkTree } from '../../src/engine/cartridge/btree-check.js';
import { type BlockPointer, NULL_POINTER } from '../../src/engine/cartridge/block-pointer.js';
import { childrenRange, decodeCatalogKey, encodeCatalogKey } from '../../src/engine/cartridge/catalog-key.js';
import { type CartridgeFile, closeCartridgeFile, commitCartridgeFile, createCartridgeFile, openCartridgeFile } from '../../src/engine/cartridge/cartridge-file.js';
import { PageType } from '../../src/engine/cartridge/page.js';
import { DiskkitError } from '../../src/engine/errors.js';
import { scratchDir } from './scratch.js';

const nextPath = scratchDir('btree');
const enc = new TextEncoder();

/** Long keys make small fan-out, so a few thousand entries reach four levels. */
function longKey(i: number): Uint8Array {
  return enc.encode(`${String(i).padStart(8, '0')}-${'k'.repeat(300)}`);
}
function valueFor(i: number, round = 0): Uint8Array {
  return enc.encode(`value ${i} round ${round} ${'v'.repeat((i * 7) % 200)}`);
}

function commit(file: CartridgeFile, tree: BTree): BlockPointer {
  const root = tree.flush();
  commitCartridgeFile(file, { catalogRoot: root, commitMs: 0 });
  return root;
}

function reopen(file: CartridgeFile): { file: CartridgeFile; tree: BTree } {
  closeCartridgeFile(file);
  const again = openCartridgeFile(file.path, { writable: true });
  return { file: again, tree: new BTree(again.pager, PageType.CATALOG_NODE, again.meta.catalogRoot) };
}

function entries(tree: BTree): [string, string][] {
  return [...tree.range()].map(([k, v]) => [Buffer.from(k).toString('latin1'), Buffer.from(v).toString('latin1')]);
}

describe('catalog B+tree', () => {
  it('grows to four levels by splits and shrinks back to one by merges, valid at every step', () => {
    let file = createCartridgeFile(nextPath());
    let tree = new BTree(file.pager, PageType.CATALOG_NODE, NULL_POINTER);
    const model = new Map<number, Uint8Array>();
    const heights: number[] = [];
    const order = Array.from({ length: 3000 }, (_, i) => (i * 1237) % 3000); // a fixed shuffle
    for (const [n, i] of order.entries()) {
      tree.put(longKey(i), valueFor(i));
      model.set(i, valueFor(i));
      if (n % 500 === 499) {
        commit(file, tree);
        const check = checkTree(file.pager, PageType.CATALOG_NODE, tree.rootPointer);
        expect(check.problems).toEqual([]);
        expect(check.entries).toBe(model.size);
        heights.push(check.height);
      }
    }
    expect(Math.max(...heights)).toBeGreaterThanOrEqual(4);
    ({ file, tree } = reopen(file));
    for (const [n, i] of order.entries()) {
      if (n === 2998) break;
      expect(tree.delete(longKey(i))).toBe(true);
      model.delete(i);
      if (n % 250 === 249) {
        commit(file, tree);
        const check = checkTree(file.pager, PageType.CATALOG_NODE, tree.rootPointer);
        expect(check.problems).toEqual([]);
        expect(check.entries).toBe(model.size);
        heights.push(check.height);
      }
    }
    commit(file, tree);
    const final = checkTree(file.pager, PageType.CATALOG_NODE, tree.rootPointer);
    expect(final.problems).toEqual([]);
    expect(final.height).toBe(1);
    for (const [i, v] of model) expect(Buffer.from(tree.get(longKey(i))!).equals(Buffer.from(v))).toBe(true);
    expect(tree.delete(longKey(order[0]!))).toBe(false);
    closeCartridgeFile(file);
  });

  it('deleting every entry leaves an empty tree, and every page it used is free again', () => {
    const file = createCartridgeFile(nextPath());
    const tree = new BTree(file.pager, PageType.CATALOG_NODE, NULL_POINTER);
    for (let i = 0; i < 1500; i++) tree.put(longKey(i), valueFor(i));
    commit(file, tree);
    const grown = file.meta.pageCount;
    for (let i = 0; i < 1500; i++) tree.delete(longKey(i));
    expect(tree.isEmpty).toBe(true);
    expect(commit(file, tree).address).toBe(0);
    // Two more commits let the §8 rule release the last tree's pages; the file shrinks to the free list.
    commitCartridgeFile(file, { commitMs: 0 });
    commitCartridgeFile(file, { commitMs: 0 });
    expect(file.meta.pageCount).toBeLessThan(10);
    expect(grown).toBeGreaterThan(100);
    closeCartridgeFile(file);
  });

  it('lists one directory as a range scan by parent id, sorted by name', () => {
    const file = createCartridgeFile(nextPath());
    const tree = new BTree(file.pager, PageType.CATALOG_NODE, NULL_POINTER);
    for (let parent = 1; parent <= 30; parent++) {
      for (let i = 0; i < 100; i++) tree.put(encodeCatalogKey(parent, `file-${(i * 37) % 100}.txt`), enc.encode(`${parent}/${i}`));
    }
    commit(file, tree);
    const { from, to } = childrenRange(17);
    const names = [...tree.range(from, to)].map(([k]) => decodeCatalogKey(k));
    expect(names.length).toBe(100);
    expect(names.every((n) => n.parentId === 17)).toBe(true);
    const sorted = names.map((n) => n.name);
    expect(sorted).toEqual([...sorted].sort());
    expect([...tree.range(childrenRange(31).from, childrenRange(31).to)]).toEqual([]);
    // forEachInRange, as the volume lists a directory: the same 100 names, and none for a parent without children.
    const visited: string[] = [];
    tree.forEachInRange(from, to, (k) => visited.push(decodeCatalogKey(k).name));
    expect(visited).toEqual(sorted);
    tree.forEachInRange(childrenRange(31).from, childrenRange(31).to, () => visited.push('unexpected'));
    expect(visited.length).toBe(100);
    closeCartridgeFile(file);
  });

  it('refuses keys and entries larger than a page can split safely', () => {
    const file = createCartridgeFile(nextPath());
    const tree = new BTree(file.pager, PageType.CATALOG_NODE, NULL_POINTER);
    expect(() => tree.put(new Uint8Array(454), new Uint8Array(1))).toThrow(DiskkitError);
    expect(() => tree.put(new Uint8Array(10), new Uint8Array(1100))).toThrow(DiskkitError);
    expect(() => tree.put(new Uint8Array(0), new Uint8Array(1))).toThrow(DiskkitError);
    tree.put(new Uint8Array(453).fill(1), new Uint8Array(1006 - 4 - 453));
    closeCartridgeFile(file);
  });

  it('a corrupt node is reported by page number on lookup', () => {
    const file = createCartridgeFile(nextPath());
    const tree = new BTree(file.pager, PageType.CATALOG_NODE, NULL_POINTER);
    for (let i = 0; i < 200; i++) tree.put(longKey(i), valueFor(i));
    const root = commit(file, tree);
    const page = file.pager.readRaw(root.address);
    page[500]! ^= 1;
    file.pager.writeRaw(root.address, page);
    const fresh = new BTree(openCartridgeFile(file.path).pager, PageType.CATALOG_NODE, root);
    try {
      fresh.get(longKey(1));
      expect.unreachable();
    } catch (error) {
      expect((error as DiskkitError).code).toBe('E_CHECKSUM');
      expect((error as DiskkitError).context.page).toBe(root.address);
    }
    closeCartridgeFile(file);
  });
});

describe('bulk build (§7.1)', () => {
  it('builds a valid, well-filled tree equal to its sorted input for sizes around every level boundary', () => {
    const file = createCartridgeFile(nextPath());
    for (const n of [0, 1, 2, 11, 12, 13, 100, 157, 1000, 2500]) {
      const input = Array.from({ length: n }, (_, i) => [longKey(i), valueFor(i)] as const);
      const root = bulkBuild(file.pager, PageType.CATALOG_NODE, input);
      const check = checkTree(file.pager, PageType.CATALOG_NODE, root);
      expect(check.problems).toEqual([]);
      expect(check.entries).toBe(n);
      const tree = new BTree(file.pager, PageType.CATALOG_NODE, root);
      const got = [...tree.range()];
      expect(got.length).toBe(n);
      got.forEach(([k, v], i) => {
        expect(Buffer.from(k).equals(Buffer.from(input[i]![0]))).toBe(true);
        expect(Buffer.from(v).equals(Buffer.from(input[i]![1]))).toBe(true);
      });
      if (n >= 1000) {
        // Leaves filled to ~90%: far fewer pages than random inserts (~70%) would need.
        const leafBytes = input.reduce((s, [k, v]) => s + 4 + k.length + v.length, 0);
        expect(check.nodes).toBeLessThan(Math.ceil(leafBytes / (4024 * 0.8)) * 1.15);
      }
    }
    closeCartridgeFile(file);
  });

  it('refuses unsorted or duplicate input', () => {
    const file = createCartridgeFile(nextPath());
    expect(() => bulkBuild(file.pager, PageType.CATALOG_NODE, [[longKey(2), valueFor(2)], [longKey(1), valueFor(1)]])).toThrow(DiskkitError);
    expect(() => bulkBuild(file.pager, PageType.CATALOG_NODE, [[longKey(1), valueFor(1)], [longKey(1), valueFor(1)]])).toThrow(DiskkitError);
    closeCartridgeFile(file);
  });

  it('a bulk-built tree accepts further inserts and deletes', () => {
    let file = createCartridgeFile(nextPath());
    const root = bulkBuild(file.pager, PageType.CATALOG_NODE, Array.from({ length: 800 }, (_, i) => [longKey(i * 2), valueFor(i * 2)] as const));
    commitCartridgeFile(file, { catalogRoot: root, commitMs: 0 });
    let tree: BTree;
    ({ file, tree } = reopen(file));
    for (let i = 0; i < 800; i++) tree.put(longKey(i * 2 + 1), valueFor(i * 2 + 1));
    for (let i = 0; i < 1600; i += 3) tree.delete(longKey(i));
    commit(file, tree);
    const check = checkTree(file.pager, PageType.CATALOG_NODE, tree.rootPointer);
    expect(check.problems).toEqual([]);
    expect(check.entries).toBe(1600 - Math.ceil(1600 / 3));
    closeCartridgeFile(file);
  });
});

describe('B+tree against a sorted Map model, reopening the file between steps', () => {
  type Op = { kind: 'put'; key: number; round: number } | { kind: 'delete'; key: number } | { kind: 'range'; from: number; to: number } | { kind: 'reopen' };
  const keySpace = 600;
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key: fc.nat(keySpace), round: fc.nat(3) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat(keySpace) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('range' as const), from: fc.nat(keySpace), to: fc.nat(keySpace) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  );
  // Keys of varying length (short and long) so nodes split and merge unevenly.
  const keyOf = (i: number) => enc.encode(`${String(i).padStart(4, '0')}${'x'.repeat((i * 13) % 280)}`);

  it('agrees with the model after every operation and after every reopen', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 1500 }), (ops) => {
        let file = createCartridgeFile(nextPath());
        let tree = new BTree(file.pager, PageType.CATALOG_NODE, NULL_POINTER);
        const model = new Map<string, string>();
        const hex = (b: Uint8Array) => Buffer.from(b).toString('latin1');
        const modelRange = (from: Uint8Array, to: Uint8Array) =>
          [...model.entries()].filter(([k]) => Buffer.compare(Buffer.from(k, 'latin1'), from) >= 0 && Buffer.compare(Buffer.from(k, 'latin1'), to) < 0).sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
        try {
          for (const o of ops) {
            if (o.kind === 'put') {
              const value = valueFor(o.key, o.round);
              tree.put(keyOf(o.key), value);
              model.set(hex(keyOf(o.key)), hex(value));
            } else if (o.kind === 'delete') {
              const had = model.delete(hex(keyOf(o.key)));
              if (tree.delete(keyOf(o.key)) !== had) return false;
            } else if (o.kind === 'range') {
              const from = keyOf(Math.min(o.from, o.to));
              const to = keyOf(Math.max(o.from, o.to));
              const got = [...tree.range(from, to)].map(([k, v]) => [hex(k), hex(v)]);
              expect(got).toEqual(modelRange(from, to));
              // The listing's walk without generators (forEachInRange) visits the same entries in the same order.
              const visited: string[][] = [];
              tree.forEachInRange(from, to, (k, v) => visited.push([hex(k), hex(v)]));
              expect(visited).toEqual(modelRange(from, to));
            } else {
              commit(file, tree);
              ({ file, tree } = reopen(file));
              const check = checkTree(file.pager, PageType.CATALOG_NODE, tree.rootPointer);
              expect(check.problems).toEqual([]);
              expect(check.entries).toBe(model.size);
            }
          }
          commit(file, tree);
          ({ file, tree } = reopen(file));
          const sortedModel = [...model.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
          expect(entries(tree)).toEqual(sortedModel);
          expect(checkTree(file.pager, PageType.CATALOG_NODE, tree.rootPointer).problems).toEqual([]);
          return true;
        } finally {
          closeCartridgeFile(file);
        }
      }),
      { numRuns: 40 },
    );
  });
});

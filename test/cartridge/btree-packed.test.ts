import { describe, expect, it } from 'vitest';
import { PackedLeaf, type TreeNode, compareKeys, decodeNode, encodeNode } from '../../src/engine/cartridge/btree-node.js';
import { DiskkitError } from '../../src/engine/errors.js';

const enc = new TextEncoder();
const PAGE = 4096;

function leafPage(entries: [string, string][]): Uint8Array {
  const node: TreeNode = { level: 0, keys: entries.map(([k]) => enc.encode(k)), values: entries.map(([, v]) => enc.encode(v)), children: [], generation: 0, address: 0 };
  const page = new Uint8Array(PAGE);
  encodeNode(node, page);
  return page;
}

describe('compareKeys', () => {
  it('orders as memcmp with the shorter prefix first', () => {
    const cases: [number[], number[]][] = [[[1, 2], [1, 2]], [[1], [1, 0]], [[2], [1, 255]], [[0, 255], [1]], [[], [0]], [[200], [100]]];
    for (const [a, b] of cases) expect(compareKeys(Uint8Array.from(a), Uint8Array.from(b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });
});

describe('PackedLeaf (decoded leaves)', () => {
  const entries: [string, string][] = Array.from({ length: 50 }, (_, i) => [`key-${String(i * 2).padStart(3, '0')}`, `value ${i} ${'x'.repeat(i % 7)}`]);
  const node = decodeNode(leafPage(entries), 9, 4, 100);

  it('answers searches, entry cuts and comparisons from the page as a sorted array would', () => {
    expect(node).toBeInstanceOf(PackedLeaf);
    const leaf = node as PackedLeaf;
    expect(leaf.count).toBe(50);
    const sortedKeys = entries.map(([k]) => k);
    for (let i = 0; i < 100; i++) {
      const probe = `key-${String(i).padStart(3, '0')}`;
      const at = sortedKeys.indexOf(probe);
      const expected = at >= 0 ? at : ~sortedKeys.filter((k) => k < probe).length;
      expect(leaf.search(enc.encode(probe))).toBe(expected);
    }
    expect(new TextDecoder().decode(leaf.keyAt(7))).toBe(entries[7]![0]);
    expect(new TextDecoder().decode(leaf.valueAt(7))).toBe(entries[7]![1]);
    expect(leaf.compareAt(3, enc.encode('key-006'))).toBe(0);
    expect(leaf.compareAt(3, enc.encode('key-0060'))).toBe(-1);
    expect(leaf.compareAt(3, enc.encode('key-005'))).toBe(1);
  });

  it('builds keys and values on first use for code that edits the node, and takes replacements', () => {
    expect(node.keys.map((k) => new TextDecoder().decode(k))).toEqual(entries.map(([k]) => k));
    expect(node.values.map((v) => new TextDecoder().decode(v))).toEqual(entries.map(([, v]) => v));
    const copy = node.keys.slice(1);
    node.keys = copy;
    expect(node.keys).toBe(copy);
    expect(node.address).toBe(9);
    expect(node.generation).toBe(4);
  });

  it('refuses leaves whose keys are out of order or whose entries overrun usedBytes', () => {
    const page = leafPage([['b', '1'], ['a', '2']].map(([k, v]) => [k!, v!]) as [string, string][]);
    expect(() => decodeNode(page, 5, 1, 100)).toThrow(DiskkitError);
    const equal = leafPage([['a', '1'], ['a', '2']]);
    expect(() => decodeNode(equal, 5, 1, 100)).toThrow(/out of order/);
    const overrun = leafPage([['a', '1'], ['b', '2']]);
    overrun[72 + 2] = 200; // first value claims 200 bytes
    expect(() => decodeNode(overrun, 5, 1, 100)).toThrow(/past its used bytes/);
  });
});

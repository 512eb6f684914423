import { describe, expect, it } from 'vitest';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { BTree } from '../../src/engine/cartridge/btree.js';
import { checkTree } from '../../src/engine/cartridge/btree-check.js';
import { NULL_POINTER } from '../../src/engine/cartridge/block-pointer.js';
import { type CartridgeFile, closeCartridgeFile, commitCartridgeFile, createCartridgeFile, openCartridgeFile } from '../../src/engine/cartridge/cartridge-file.js';
import { readFreeList } from '../../src/engine/cartridge/freelist-page.js';
import { ChecksumAlgorithm } from '../../src/engine/cartridge/checksum.js';
import { PageType } from '../../src/engine/cartridge/page.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { DiskkitError } from '../../src/engine/errors.js';
import { scratchDir } from './scratch.js';

const nextPath = scratchDir('file');
const enc = new TextEncoder();
const key = (i: number) => enc.encode(`name-${String(i).padStart(6, '0')}-${'n'.repeat(i % 120)}`);
const value = (i: number, round: number) => enc.encode(`inode ${i} round ${round} ${'d'.repeat((i * 5) % 150)}`);

function errorOf(fn: () => unknown): DiskkitError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DiskkitError) return error;
    throw error;
  }
  throw new Error('expected a DiskkitError');
}

/** §11 I3: reachable pages, free extents and the free-list chain partition [3, pageCount). */
function ownership(file: CartridgeFile): { orphans: number[]; doubleOwned: number[] } {
  const owner = new Map<number, string>();
  const doubleOwned: number[] = [];
  const claim = (page: number, who: string) => {
    if (owner.has(page)) doubleOwned.push(page);
    owner.set(page, who);
  };
  const tree = checkTree(file.pager, PageType.CATALOG_NODE, file.meta.catalogRoot);
  expect(tree.problems).toEqual([]);
  for (const page of tree.pages.keys()) claim(page, 'tree');
  const list = readFreeList(file.pager, file.meta.freeListHead, file.meta.pageCount);
  for (const p of list.chain) claim(p.address, 'chain');
  for (const r of list.records) for (let p = r.start; p < r.start + r.length; p++) claim(p, 'free');
  const orphans: number[] = [];
  for (let p = 3; p < file.meta.pageCount; p++) if (!owner.has(p)) orphans.push(p);
  return { orphans, doubleOwned };
}

describe('mkfs, open and commit (§3, §4)', () => {
  it('mkfs writes superblock and meta generation 1 in page 2; commits alternate slots', () => {
    const path = nextPath();
    const file = createCartridgeFile(path, { checksumAlgorithm: ChecksumAlgorithm.SHA256, compression: Compression.ZSTD, invariantMs: 1_000_000 });
    expect(readFileSync(path).length).toBe(3 * 4096);
    expect(file.meta.generation).toBe(1);
    commitCartridgeFile(file, { commitMs: 0 }); // generation 2 → page 1
    commitCartridgeFile(file, { commitMs: 0 }); // generation 3 → page 2
    closeCartridgeFile(file);
    const bytes = readFileSync(path);
    expect(bytes.readBigUInt64LE(4096 + 16)).toBe(2n);
    expect(bytes.readBigUInt64LE(8192 + 16)).toBe(3n);
    const again = openCartridgeFile(path);
    expect(again.meta.generation).toBe(3);
    expect(again.superblock).toMatchObject({ checksumAlgorithm: 2, defaultCompression: 2, compressionLevel: 3, createdMs: 1_000_000 });
    closeCartridgeFile(again);
  });

  it('a reproducible mkfs gives byte-identical images', () => {
    const a = nextPath();
    const b = nextPath();
    closeCartridgeFile(createCartridgeFile(a, { invariantMs: 42 }));
    closeCartridgeFile(createCartridgeFile(b, { invariantMs: 42 }));
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it('a crash that tears the newest meta page opens the previous commit, whose pages were not reused', () => {
    const path = nextPath();
    const file = createCartridgeFile(path);
    const tree = new BTree(file.pager, PageType.CATALOG_NODE, NULL_POINTER);
    for (let i = 0; i < 2000; i++) tree.put(key(i), value(i, 0));
    commitCartridgeFile(file, { catalogRoot: tree.flush(), commitMs: 0 });
    // Two commits that rewrite most of the tree: the second may reuse what the first freed.
    for (let round = 1; round <= 2; round++) {
      for (let i = 0; i < 2000; i += 2) tree.put(key(i), value(i, round));
      for (let i = 1; i < 2000; i += 10) tree.delete(key(i));
      commitCartridgeFile(file, { catalogRoot: tree.flush(), commitMs: 0 });
    }
    const newest = file.meta.generation;
    closeCartridgeFile(file);
    // Tear the newest meta page: only its first 100 bytes reached the disk over the older one.
    const bytes = readFileSync(path);
    const slot = 1 + (newest % 2);
    bytes.fill(0x55, slot * 4096 + 100, slot * 4096 + 400);
    writeFileSync(path, bytes);
    const reopened = openCartridgeFile(path, { writable: true });
    expect(reopened.meta.generation).toBe(newest - 1);
    const old = new BTree(reopened.pager, PageType.CATALOG_NODE, reopened.meta.catalogRoot);
    expect(checkTree(reopened.pager, PageType.CATALOG_NODE, reopened.meta.catalogRoot).problems).toEqual([]);
    for (let i = 0; i < 2000; i++) {
      const expected = i % 10 === 1 ? undefined : Buffer.from(value(i, i % 2 === 0 ? 1 : 0)).toString();
      const got = old.get(key(i));
      expect(got === undefined ? undefined : Buffer.from(got).toString()).toBe(expected);
    }
    expect(ownership(reopened)).toEqual({ orphans: [], doubleOwned: [] });
    closeCartridgeFile(reopened);
  });

  it('after many commits every page is owned exactly once: tree, free list or free (§11 I3)', () => {
    const path = nextPath();
    let file = createCartridgeFile(path);
    let tree = new BTree(file.pager, PageType.CATALOG_NODE, NULL_POINTER);
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 600; i++) if ((i * 7 + round) % 5 !== 0) tree.put(key((i * 31 + round * 17) % 900), value(i, round));
      for (let i = 0; i < 900; i += 4 + (round % 3)) tree.delete(key(i));
      commitCartridgeFile(file, { catalogRoot: tree.flush(), commitMs: 0 });
      if (round % 3 === 2) {
        closeCartridgeFile(file);
        file = openCartridgeFile(path, { writable: true });
        tree = new BTree(file.pager, PageType.CATALOG_NODE, file.meta.catalogRoot);
      }
      expect(ownership(file)).toEqual({ orphans: [], doubleOwned: [] });
    }
    closeCartridgeFile(file);
  });

  it('a truncated image, a non-image and a missing file are clear errors', () => {
    const path = nextPath();
    const file = createCartridgeFile(path);
    const tree = new BTree(file.pager, PageType.CATALOG_NODE, NULL_POINTER);
    for (let i = 0; i < 500; i++) tree.put(key(i), value(i, 0));
    commitCartridgeFile(file, { catalogRoot: tree.flush(), commitMs: 0 });
    const pages = file.meta.pageCount;
    closeCartridgeFile(file);
    truncateSync(path, (pages - 2) * 4096);
    expect(errorOf(() => openCartridgeFile(path)).code).toBe('E_TRUNCATED');
    truncateSync(path, 2 * 4096);
    expect(errorOf(() => openCartridgeFile(path)).code).toBe('E_TRUNCATED'); // meta 2 in page 1 survives, its pages do not
    truncateSync(path, 4096);
    const noMeta = errorOf(() => openCartridgeFile(path));
    expect(noMeta.code).toBe('E_CORRUPT');
    expect(noMeta.message).toContain('no valid meta page');
    const other = nextPath();
    writeFileSync(other, Buffer.alloc(8192, 0x41));
    expect(errorOf(() => openCartridgeFile(other)).code).toBe('E_UNKNOWN_FORMAT');
    expect(errorOf(() => openCartridgeFile(`${other}.missing`)).code).toBe('E_NOT_FOUND');
  });
});

describe('encrypted image (§10)', () => {
  it('hides names on disk, opens with the passphrase, and says when the passphrase is wrong or missing', () => {
    const path = nextPath();
    const file = createCartridgeFile(path, { passphrase: 'open sesame' });
    const tree = new BTree(file.pager, PageType.CATALOG_NODE, NULL_POINTER);
    for (let i = 0; i < 300; i++) tree.put(enc.encode(`secret-name-${i}`), value(i, 0));
    commitCartridgeFile(file, { catalogRoot: tree.flush(), commitMs: 0 });
    closeCartridgeFile(file);
    expect(readFileSync(path).includes('secret-name-1')).toBe(false);
    expect(errorOf(() => openCartridgeFile(path)).context.reason).toBe('passphrase-needed');
    expect(errorOf(() => openCartridgeFile(path, { passphrase: 'open barley' })).context.reason).toBe('wrong-passphrase');
    const again = openCartridgeFile(path, { passphrase: 'open sesame', writable: true });
    const reread = new BTree(again.pager, PageType.CATALOG_NODE, again.meta.catalogRoot);
    expect(Buffer.from(reread.get(enc.encode('secret-name-7'))!).toString()).toBe(Buffer.from(value(7, 0)).toString());
    expect(ownership(again)).toEqual({ orphans: [], doubleOwned: [] });
    closeCartridgeFile(again);
  });
});

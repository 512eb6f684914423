import { describe, expect, it } from 'vitest';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { closeCartridgeFile, commitCartridgeFile, openCartridgeFile } from '../../src/engine/cartridge/cartridge-file.js';
import { checkCartridge } from '../../src/engine/cartridge/fsck-check.js';
import { BTree } from '../../src/engine/cartridge/btree.js';
import { PageType } from '../../src/engine/cartridge/page.js';
import { decodeInodeRecord } from '../../src/engine/cartridge/inode-record.js';
import { decodeExtentRecord } from '../../src/engine/cartridge/extent-record.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('fsck');

async function image(): Promise<string> {
  const path = nextPath();
  const store = CartridgeStore.create(path, { extentSize: 65536, compression: Compression.LZ4 });
  store.mkdir('/etc');
  for (let i = 0; i < 12; i++) await store.writeFile(`/etc/f${i}`, patternBytes(i % 3 === 0 ? 300 : 90_000, i + 1));
  store.commit();
  store.createSnapshot('base');
  store.commit();
  await store.writeFile('/etc/f1', patternBytes(50_000, 99));
  store.commit();
  store.close();
  return path;
}

/** The first extent of /etc/f2 (pages), read through the engine's own structures. */
function extentOf(path: string, name: string): { address: number; pageCount: number } {
  const file = openCartridgeFile(path);
  try {
    const catalog = new BTree(file.pager, PageType.CATALOG_NODE, file.meta.catalogRoot);
    const etc = decodeInodeRecord([...catalog.range()].find(([key]) => Buffer.from(key.subarray(8)).toString() === 'etc')![1]);
    const entry = [...catalog.range()].find(([key, value]) => Buffer.from(key.subarray(8)).toString() === name && decodeInodeRecord(value).id > etc.id)!;
    const inode = decodeInodeRecord(entry[1]);
    if (inode.data.mode !== 'extent-map') throw new Error('no extents');
    const [, first] = new BTree(file.pager, PageType.EXTENT_MAP_NODE, inode.data.root).range().next().value!;
    return decodeExtentRecord(first, 0, 4096, file.meta.pageCount);
  } finally {
    closeCartridgeFile(file);
  }
}

describe('cartridge fsck', () => {
  it('a clean image with a snapshot is clean, and the stats count what is there', async () => {
    const report = await checkCartridge(await image());
    expect(report.errors).toEqual([]);
    expect(report.clean).toBe(true);
    expect(report.stats).toMatchObject({ files: 12, directories: 2, snapshots: 1 });
    // 8 files of two extents, /etc/f1 rewritten after the snapshot (both versions are checked),
    // and one pack holding the four 300-byte files (§7.5).
    expect(report.stats.extents).toBe(8 * 2 + 1 + 1);
  });

  it('a damaged extent is reported by its page and the file path, and --repair leaves it uncorrected', async () => {
    const path = await image();
    const extent = extentOf(path, 'f2');
    const bytes = readFileSync(path);
    bytes[extent.address * 4096 + 1000]! ^= 0x04;
    writeFileSync(path, bytes);
    const report = await checkCartridge(path);
    expect(report.clean).toBe(false);
    const finding = report.errors.find((e) => e.code === 'E_FSCK_EXTENT')!;
    expect(finding.page).toBe(extent.address);
    expect(finding.message).toContain(`extent at page ${extent.address}`);
    expect(finding.path).toBe('/etc/f2');
    const repaired = await checkCartridge(path, { repair: true });
    expect(repaired.uncorrected.map((f) => f.code)).toContain('E_FSCK_EXTENT');
  });

  it('orphan pages, wrong counts and a free record over a live page are found, and repaired to clean', async () => {
    const path = await image();
    const file = openCartridgeFile(path, { writable: true });
    // The snapshot's generation pinned, as the store does, so the allocation below cannot take its pages.
    file.pager.space.setSnapshotGenerations([file.meta.generation - 1]);
    const orphan = file.pager.allocatePages(3);
    file.pager.writeRaw(orphan, new Uint8Array(3 * 4096));
    // A live catalog page put on the free list: the allocator would hand it out again.
    file.pager.freePages(file.meta.catalogRoot.address, 1, file.meta.catalogRoot.generation);
    commitCartridgeFile(file, { fileCount: 99 });
    closeCartridgeFile(file);
    const report = await checkCartridge(path);
    const codes = report.errors.map((e) => e.code);
    expect(codes).toContain('E_FSCK_ORPHAN');
    expect(codes).toContain('E_FSCK_COUNT');
    expect(codes).toContain('E_FSCK_DOUBLE');
    expect(report.errors.find((e) => e.code === 'E_FSCK_ORPHAN')!.message).toContain(`pages ${orphan}..${orphan + 2}`);
    const repaired = await checkCartridge(path, { repair: true });
    expect(repaired.repairs.length).toBe(3);
    expect(repaired.uncorrected).toEqual([]);
    const again = await checkCartridge(path);
    expect(again.errors).toEqual([]);
    const store = CartridgeStore.open(path, { snapshot: 'base' });
    expect(Buffer.from(await store.readFile('/etc/f1')).equals(Buffer.from(patternBytes(90_000, 2)))).toBe(true);
    store.close();
  });

  it('an image cut short is one E_FSCK_UNREADABLE finding naming the missing page', async () => {
    const path = await image();
    truncateSync(path, 20 * 4096);
    const report = await checkCartridge(path);
    expect(report.clean).toBe(false);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]!.code).toBe('E_FSCK_UNREADABLE');
    expect(report.errors[0]!.message).toMatch(/truncated: 20 pages/);
  });

  it('a damaged free-list page: fsck names it, --repair rebuilds the list from what nothing reaches, and files and snapshots survive', async () => {
    const path = await image();
    let file = openCartridgeFile(path);
    const head = file.meta.freeListHead.address;
    const pageCount = file.meta.pageCount;
    closeCartridgeFile(file);
    expect(head).toBeGreaterThan(2);
    const bytes = readFileSync(path);
    bytes[head * 4096 + 200] ^= 0x10;
    writeFileSync(path, bytes);
    const report = await checkCartridge(path);
    expect(report.errors.map((e) => e.code)).toContain('E_FSCK_FREELIST');
    const repaired = await checkCartridge(path, { repair: true });
    expect(repaired.repairs.map((r) => r.code)).toContain('E_FSCK_FREELIST');
    expect(repaired.uncorrected).toEqual([]);
    const again = await checkCartridge(path);
    expect(again.errors).toEqual([]);
    // The rebuilt list is used: a new file takes freed pages instead of growing the image.
    file = openCartridgeFile(path, { writable: true });
    expect(file.pager.space.reusablePages()).toBeGreaterThan(0);
    expect(file.pager.allocatePages(1)).toBeLessThan(pageCount);
    closeCartridgeFile(file);
    const store = CartridgeStore.open(path, { writable: true });
    await store.writeFile('/etc/new', patternBytes(8000, 5));
    store.commit();
    expect(await store.readFile('/etc/f2')).toEqual(patternBytes(90_000, 3));
    store.close();
    const written = CartridgeStore.open(path);
    expect(await written.readFile('/etc/new')).toEqual(patternBytes(8000, 5));
    written.close();
    const snapshot = CartridgeStore.open(path, { snapshot: 'base' });
    expect(Buffer.from(await snapshot.readFile('/etc/f1')).equals(Buffer.from(patternBytes(90_000, 2)))).toBe(true);
    snapshot.close();
    expect((await checkCartridge(path)).errors).toEqual([]);
  });
});

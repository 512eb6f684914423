/**
 * Packs (docs/cartridge-format.md §7.5): small files share compressed extents named by
 * pack entries in the catalog. The model is a map of what was written; the layout is
 * checked by walking the catalog with the engine's decoders, and fsck (ownership, links)
 * must stay clean through deletions, overwrites, snapshots and compaction, and must
 * notice a pack entry whose links are wrong.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importHostTree } from '../../src/engine/cartridge/bulk-import.js';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { closeCartridgeFile, commitCartridgeFile, openCartridgeFile } from '../../src/engine/cartridge/cartridge-file.js';
import { checkCartridge } from '../../src/engine/cartridge/fsck-check.js';
import { compactCartridge } from '../../src/engine/cartridge/compact.js';
import { BTree } from '../../src/engine/cartridge/btree.js';
import { PageType } from '../../src/engine/cartridge/page.js';
import { InodeKind, decodeInodeRecord, encodeInodeRecord } from '../../src/engine/cartridge/inode-record.js';
import { isPackKey } from '../../src/engine/cartridge/packs.js';
import { Compression, IncompatFeature } from '../../src/engine/cartridge/superblock.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('packs');

/** Text-like bytes (compressible, as source files are). */
function textBytes(length: number, seed: number): Uint8Array {
  const words = ['alpha ', 'beta ', 'gamma ', 'delta\n', 'epsilon ', 'zeta '];
  const pattern = patternBytes(length, seed);
  const out = new Uint8Array(length);
  let at = 0;
  for (let i = 0; at < length; i++) {
    const word = words[pattern[i % length]! % words.length]!;
    for (let j = 0; j < word.length && at < length; j++) out[at++] = word.charCodeAt(j);
  }
  return out;
}

/** Data modes used by the current catalog's files, and its packs' links. */
function layout(path: string): { modes: Map<string, number>; packs: number[] } {
  const file = openCartridgeFile(path);
  try {
    const modes = new Map<string, number>();
    const packs: number[] = [];
    for (const [key, value] of new BTree(file.pager, PageType.CATALOG_NODE, file.meta.catalogRoot).range()) {
      const inode = decodeInodeRecord(value);
      if (isPackKey(key)) packs.push(inode.links!);
      else if (inode.kind === InodeKind.FILE) modes.set(inode.data.mode, (modes.get(inode.data.mode) ?? 0) + 1);
    }
    return { modes, packs };
  } finally {
    closeCartridgeFile(file);
  }
}

async function readAll(store: CartridgeStore, model: Map<string, Uint8Array>): Promise<void> {
  for (const [name, data] of model) expect(Buffer.from(await store.readFile(name)).equals(Buffer.from(data)), name).toBe(true);
}

describe('packs (§7.5)', () => {
  it('many small files share packs: the image is smaller than one page per file, every file reads back, fsck is clean', async () => {
    const path = nextPath();
    const store = CartridgeStore.create(path, { compression: Compression.ZSTD });
    const model = new Map<string, Uint8Array>();
    store.mkdir('/d');
    for (let i = 0; i < 300; i++) {
      const data = textBytes(100 + ((i * 977) % 4000), i + 1);
      store.writeFileFrom(`/d/f${i}`, { size: data.length, read: (buf, length, position) => buf.set(data.subarray(position, position + length)) });
      model.set(`/d/f${i}`, data);
    }
    await readAll(store, model); // before the commit: from the open pack and written packs
    store.commit();
    store.close();
    // 300 files of 1.2 KB to 4.1 KB on average: whole pages would need at least 300 pages.
    expect(statSync(path).size).toBeLessThan(300 * 4096 / 2);
    const { modes, packs } = layout(path);
    expect(modes.get('packed')).toBeGreaterThan(250);
    expect(packs.reduce((a, b) => a + b, 0)).toBe(modes.get('packed'));
    const reopened = CartridgeStore.open(path);
    await readAll(reopened, model);
    reopened.close();
    const report = await checkCartridge(path);
    expect(report.errors).toEqual([]);
  });

  it('deleting and overwriting packed files under a snapshot, then compacting: links follow, freed packs return their pages, snapshot intact', async () => {
    const path = nextPath();
    let store = CartridgeStore.create(path, { compression: Compression.LZ4 });
    const model = new Map<string, Uint8Array>();
    for (let i = 0; i < 120; i++) {
      const data = textBytes(200 + i * 50, i + 7);
      await store.writeFile(`/f${i}`, data);
      model.set(`/f${i}`, data);
    }
    store.commit();
    store.createSnapshot('s');
    store.commit();
    const snapshotModel = new Map(model);
    // Every file of the first packs goes, some others are overwritten (in the same transaction, one is removed again).
    for (let i = 0; i < 60; i++) {
      store.remove(`/f${i}`);
      model.delete(`/f${i}`);
    }
    for (let i = 60; i < 120; i += 3) {
      const data = textBytes(300, 1000 + i);
      await store.writeFile(`/f${i}`, data);
      model.set(`/f${i}`, data);
    }
    store.remove('/f63');
    model.delete('/f63');
    await readAll(store, model);
    store.commit();
    expect((await checkCartridge(path)).errors).toEqual([]);
    const view = CartridgeStore.open(path, { snapshot: 's' });
    await readAll(view, snapshotModel);
    view.close();
    store.deleteSnapshot('s');
    store.commit();
    store.commit();
    store.close();
    const before = statSync(path).size;
    const file = openCartridgeFile(path, { writable: true });
    compactCartridge(file);
    closeCartridgeFile(file);
    expect(statSync(path).size).toBeLessThan(before);
    const { modes, packs } = layout(path);
    expect(packs.reduce((a, b) => a + b, 0)).toBe(modes.get('packed'));
    store = CartridgeStore.open(path);
    await readAll(store, model);
    store.close();
    expect((await checkCartridge(path)).errors).toEqual([]);
  });

  it('a bulk import (mkfs --from) packs small files with ids of their own: every id unique, counts right, fsck clean', async () => {
    const host = mkdtempSync(join(tmpdir(), 'dk-packs-host-'));
    try {
      const model = new Map<string, Uint8Array>();
      for (let d = 0; d < 4; d++) {
        mkdirSync(join(host, `d${d}`));
        for (let f = 0; f < 40; f++) {
          const data = textBytes(50 + ((d * 40 + f) * 331) % 9000, d * 40 + f + 1);
          writeFileSync(join(host, `d${d}`, `f${f}`), data);
          model.set(`/d${d}/f${f}`, data);
        }
      }
      const path = nextPath();
      const store = CartridgeStore.create(path, { compression: Compression.ZSTD });
      const result = importHostTree(store, host, { mtimeOf: (mtimeMs) => mtimeMs });
      expect(result.errors).toEqual([]);
      store.commit();
      store.close();
      expect(layout(path).packs.length).toBeGreaterThan(0);
      const report = await checkCartridge(path);
      expect(report.errors).toEqual([]);
      expect(report.stats).toMatchObject({ files: 160, directories: 5 });
      const reopened = CartridgeStore.open(path);
      await readAll(reopened, model);
      reopened.close();
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  });

  it('a pack entry whose links disagree with the files naming it is an E_FSCK_CATALOG finding', async () => {
    const path = nextPath();
    const store = CartridgeStore.create(path);
    for (let i = 0; i < 5; i++) await store.writeFile(`/f${i}`, textBytes(1000, i + 1));
    store.commit();
    store.close();
    const file = openCartridgeFile(path, { writable: true });
    const catalog = new BTree(file.pager, PageType.CATALOG_NODE, file.meta.catalogRoot);
    const [key, value] = [...catalog.range()].find(([k]) => isPackKey(k))!;
    const pack = decodeInodeRecord(value);
    expect(pack.links).toBe(5);
    catalog.put(key, encodeInodeRecord({ ...pack, links: 4 }));
    commitCartridgeFile(file, { catalogRoot: catalog.flush() });
    closeCartridgeFile(file);
    const report = await checkCartridge(path);
    expect(report.errors.map((e) => [e.code, e.message])).toEqual([['E_FSCK_CATALOG', `pack ${pack.id} says 4 files name it, 5 do`]]);
  });

  it('an image without PACKED_FILES (1.0) keeps the 1.0 layout when written: no packs, no data modes 2 and 4', async () => {
    const path = nextPath();
    const store = CartridgeStore.create(path, { packedFiles: false });
    expect(store.file.superblock.incompatFeatures & IncompatFeature.PACKED_FILES).toBe(0);
    const model = new Map<string, Uint8Array>();
    for (let i = 0; i < 20; i++) {
      const data = textBytes(300 + i * 400, i + 1);
      store.writeFileFrom(`/f${i}`, { size: data.length, read: (buf, length, position) => buf.set(data.subarray(position, position + length)) });
      model.set(`/f${i}`, data);
    }
    store.commit();
    store.close();
    const { modes, packs } = layout(path);
    expect(packs).toEqual([]);
    expect([...modes.keys()].sort()).toEqual(['extent-map', 'inline']);
    const reopened = CartridgeStore.open(path);
    await readAll(reopened, model);
    reopened.close();
    expect((await checkCartridge(path)).errors).toEqual([]);
  });
});

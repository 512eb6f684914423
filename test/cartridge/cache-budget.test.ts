/**
 * --cache-size (src/engine/cache-budget.ts): the budget sizes a Cartridge image's page and
 * extent caches, half each; the caches hold no more than that whatever is read; --stats
 * reports their hit rates; a size below 1M is a usage error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { DEFAULT_CACHE_BYTES, setCacheBudget } from '../../src/engine/cache-budget.js';
import { diskkit, diskkitBytes } from '../helpers/cli.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('cache-budget');
const MiB = 1024 * 1024;

afterEach(() => setCacheBudget(DEFAULT_CACHE_BYTES));

describe('the cache budget', () => {
  it('gives each cache half of it: pages by the page size, extents by the largest extent', () => {
    const path = nextPath();
    CartridgeStore.create(path).close();
    setCacheBudget(8 * MiB);
    const store = CartridgeStore.open(path);
    const pageSize = store.file.superblock.pageSize;
    expect(store.file.pager.cache.capacity).toBe((4 * MiB) / pageSize);
    expect(store.file.pager.extentCache.capacity).toBe(4);
    store.close();
    setCacheBudget(DEFAULT_CACHE_BYTES);
    const again = CartridgeStore.open(path);
    expect(again.file.pager.cache.capacity).toBe(DEFAULT_CACHE_BYTES / 2 / pageSize);
    again.close();
  });

  it('bounds what the caches hold while more is read than fits', async () => {
    const path = nextPath();
    const store = CartridgeStore.create(path, { compression: Compression.LZ4 });
    // 12 files of 1 MiB (one extent each) and 600 small ones: more pages and extents than a 2M budget keeps.
    for (let i = 0; i < 12; i++) await store.writeFile(`/big-${i}`, patternBytes(MiB, i + 1));
    for (let i = 0; i < 600; i++) await store.writeFile(`/small-${i}`, patternBytes(100 + i, i + 100));
    store.commit();
    store.close();
    setCacheBudget(2 * MiB);
    const reader = CartridgeStore.open(path);
    const pager = reader.file.pager;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 12; i++) expect(Buffer.compare(await reader.readFile(`/big-${i}`), patternBytes(MiB, i + 1))).toBe(0);
      for (let i = 0; i < 600; i += 7) expect(reader.stat(`/small-${i}`).size).toBe(100 + i);
    }
    expect(pager.cache.size).toBeLessThanOrEqual(pager.cache.capacity);
    expect(pager.extentCache.size).toBeLessThanOrEqual(pager.extentCache.capacity);
    expect(pager.extentCache.capacity).toBe(2);
    expect(pager.extentCache.stats.evictions + pager.cache.stats.evictions).toBeGreaterThan(0);
    reader.close();
  });

  it('CLI: cat --stats and cp --stats print the hit rates of both caches; --cache-size below 1M is a usage error', async () => {
    const img = nextPath();
    const data = patternBytes(3 * MiB, 5);
    const host = `${img}.bin`;
    writeFileSync(host, data);
    expect((await diskkit(['mkfs', '--type', 'cartridge', img])).exitCode).toBe(0);
    expect((await diskkit(['cp', host, `${img}:/data.bin`])).exitCode).toBe(0);
    const r = await diskkitBytes(['--cache-size', '4M', 'cat', '--stats', `${img}:/data.bin`]);
    const stderr = Buffer.from(r.stderr).toString('utf8');
    expect(r.exitCode, stderr).toBe(0);
    expect(Buffer.compare(r.stdout, data)).toBe(0);
    expect(stderr).toMatch(/^diskkit: stats: pages cache: \d+ hits, \d+ misses/m);
    expect(stderr).toMatch(/^diskkit: stats: extents cache: \d+ hits, \d+ misses/m);
    const out = `${img}.out`;
    const cp = await diskkit(['cp', '--stats', `${img}:/data.bin`, out]);
    expect(cp.exitCode, cp.stderr).toBe(0);
    expect(cp.stderr).toMatch(/^diskkit: stats: pages cache: \d+ hits/m);
    expect(cp.stderr).toMatch(/^diskkit: stats: extents cache: \d+ hits/m);
    const bad = await diskkit(['--cache-size', '100K', 'ls', img]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^diskkit: .*--cache-size.*1M/m);
  });
});

import { describe, expect, it } from 'vitest';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('extent-cache');

describe('decoded-extent cache', () => {
  it('serves a second read of a file from decoded extents, and a rewritten file never from stale ones', async () => {
    const path = nextPath();
    const store = CartridgeStore.create(path, { compression: Compression.LZ4 });
    const first = new Uint8Array(3 * 1024 * 1024);
    first.set(patternBytes(1024 * 1024, 3), 0);
    first.fill(7, 1024 * 1024);
    await store.writeFile('/a', first);
    store.commit();
    const pager = store.file.pager;
    expect(Buffer.compare(await store.readFile('/a'), first)).toBe(0);
    const readsAfterFirst = pager.pagesRead;
    expect(Buffer.compare(await store.readFile('/a'), first)).toBe(0);
    // Only the extent map was looked up again: no extent page was read.
    expect(pager.pagesRead - readsAfterFirst).toBeLessThan(3);
    expect(pager.extentCache.stats.hits).toBeGreaterThanOrEqual(3);
    // Rewrite: the freed extents leave the cache, and new extents may reuse their pages.
    const second = patternBytes(3 * 1024 * 1024, 11);
    await store.writeFile('/a', second);
    store.commit();
    await store.writeFile('/b', patternBytes(2 * 1024 * 1024, 12));
    store.commit();
    expect(Buffer.compare(await store.readFile('/a'), second)).toBe(0);
    store.close();
    const reopened = CartridgeStore.open(path);
    expect(Buffer.compare(await reopened.readFile('/a'), second)).toBe(0);
    expect(Buffer.compare(await reopened.readFile('/b'), patternBytes(2 * 1024 * 1024, 12))).toBe(0);
    reopened.close();
  });
});

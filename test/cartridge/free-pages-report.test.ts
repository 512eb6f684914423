/**
 * What `info` and `fsck` call free pages on a Cartridge with snapshots: pages the next
 * write may reuse under the §8 rule, not every page in the free list. The expectation is
 * decoded from the image bytes here, straight from docs/cartridge-format.md (§4 meta
 * selection, §8 free-list pages, §7.1/§7.4 the snapshot table as one leaf), not through
 * the engine.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { diskkit } from '../helpers/cli.js';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('free-pages');

interface Record8 { start: number; length: number; born: number; freed: number }

/** §8 from the bytes: the free records, the snapshot generations, and the split the reuse rule makes. */
function freePagesFromBytes(path: string): { all: number; reusable: number; snapshots: number[] } {
  const b = readFileSync(path);
  const pageSize = b.readUInt32LE(12);
  const u64 = (at: number) => Number(b.readBigUInt64LE(at));
  // §4: the slot with the higher generation (both are valid in these images: they were just written by diskkit).
  const slot = [1, 2].sort((x, y) => u64(y * pageSize + 64) - u64(x * pageSize + 64))[0]!;
  const meta = slot * pageSize;
  const generation = u64(meta + 64);
  const records: Record8[] = [];
  for (let page = u64(meta + 152); page !== 0; ) {
    const at = page * pageSize;
    const count = b.readUInt32LE(at + 64);
    for (let i = 0; i < count; i++) {
      const r = at + 120 + 32 * i;
      records.push({ start: u64(r), length: u64(r + 8), born: u64(r + 16), freed: u64(r + 24) });
    }
    page = u64(at + 72);
  }
  const snapshots: number[] = [];
  const table = u64(meta + 200);
  if (table !== 0) {
    const at = table * pageSize;
    expect(b[at + 64], 'the snapshot table is one leaf in this test').toBe(0);
    let p = at + 72;
    for (let i = 0; i < b.readUInt16LE(at + 66); i++) {
      const keyLength = b.readUInt16LE(p);
      const valueLength = b.readUInt16LE(p + 2);
      snapshots.push(u64(p + 4 + keyLength));
      p += 4 + keyLength + valueLength;
    }
  }
  // §8, for transaction t = generation + 1: clean, or freed before t and pinned by no snapshot s with born <= s < freed.
  const reusable = (r: Record8) => (r.born === 0 && r.freed === 0) || (r.freed <= generation && !snapshots.some((s) => r.born <= s && s < r.freed));
  return { all: records.reduce((n, r) => n + r.length, 0), reusable: records.filter(reusable).reduce((n, r) => n + r.length, 0), snapshots };
}

async function reported(path: string): Promise<{ info: { freePages: number; snapshotOnlyPages: number; freeBytes: number }; fsckFree: number }> {
  const info = await diskkit(['--json', 'info', path]);
  expect(info.exitCode, info.stderr).toBe(0);
  const fsck = await diskkit(['--json', 'fsck', path]);
  expect(fsck.exitCode, fsck.stdout).toBe(0);
  return { info: JSON.parse(info.stdout), fsckFree: JSON.parse(fsck.stdout).stats.freePages };
}

describe('free pages of a Cartridge with snapshots (info, fsck)', () => {
  it('pages a snapshot still reaches are not free; deleting the snapshot makes them free', async () => {
    const path = nextPath();
    const store = CartridgeStore.create(path, { compression: Compression.NONE, extentSize: 65536 });
    for (let i = 0; i < 8; i++) await store.writeFile(`/f${i}`, patternBytes(200_000, i + 1));
    store.commit();
    store.close();
    expect((await diskkit(['snapshot', 'create', path, 'keep'])).exitCode).toBe(0);
    expect((await diskkit(['rm', `${path}:/f0`, `${path}:/f1`, `${path}:/f2`, `${path}:/f3`])).exitCode).toBe(0);
    // A second commit, so that the pages rm freed are past the fallback tree and only the snapshot holds them.
    expect((await diskkit(['mkdir', `${path}:/d`])).exitCode).toBe(0);

    const pinned = freePagesFromBytes(path);
    expect(pinned.snapshots).toHaveLength(1);
    expect(pinned.all - pinned.reusable, 'the removed files are held by the snapshot').toBeGreaterThan(4 * 48);
    let r = await reported(path);
    expect(r.info.freePages).toBe(pinned.reusable);
    expect(r.info.snapshotOnlyPages).toBe(pinned.all - pinned.reusable);
    expect(r.info.freeBytes).toBe(pinned.reusable * 4096);
    expect(r.fsckFree).toBe(pinned.reusable);

    expect((await diskkit(['snapshot', 'delete', path, 'keep'])).exitCode).toBe(0);
    const released = freePagesFromBytes(path);
    expect(released.snapshots).toEqual([]);
    expect(released.reusable).toBe(released.all);
    r = await reported(path);
    expect(r.info.freePages).toBe(released.reusable);
    expect(r.info.snapshotOnlyPages).toBe(0);
    expect(r.fsckFree).toBe(released.reusable);
    expect(r.info.freePages - pinned.reusable).toBeGreaterThan(4 * 48);
  }, 60_000);
});

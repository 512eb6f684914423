import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { checkPageOwnership } from '../../src/engine/cartridge/ownership.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { DiskkitError } from '../../src/engine/errors.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('snap');
const clean = { orphans: [], doubleOwned: [], problems: [] };

async function contents(store: CartridgeStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of store.list('/')) out.set(entry.name, Buffer.from(await store.readFile(`/${entry.name}`)).toString('base64'));
  return out;
}

describe('snapshots (§13)', () => {
  it('a snapshot keeps the committed state readable while the image changes, and deleting it gives its pages back', async () => {
    const path = nextPath();
    let store = CartridgeStore.create(path, { compression: Compression.LZ4, extentSize: 65536 });
    for (let i = 0; i < 8; i++) await store.writeFile(`/f${i}`, patternBytes(200_000, i + 1));
    store.commit();
    const before = await contents(store);
    store.createSnapshot('v1');
    store.commit();
    for (let i = 0; i < 8; i += 2) await store.writeFile(`/f${i}`, patternBytes(150_000, i + 100));
    store.remove('/f1');
    store.commit();
    expect(checkPageOwnership(store.file)).toEqual(clean);
    // Churn: without the pin these commits would reuse the snapshot's pages.
    for (let round = 0; round < 4; round++) {
      for (let i = 2; i < 8; i += 2) await store.writeFile(`/f${i}`, patternBytes(150_000, round * 10 + i));
      store.commit();
    }
    expect(checkPageOwnership(store.file)).toEqual(clean);
    store.close();
    const snapshot = CartridgeStore.open(path, { snapshot: 'v1' });
    expect(await contents(snapshot)).toEqual(before);
    expect(() => snapshot.mkdir('/x')).toThrow(DiskkitError);
    snapshot.close();
    store = CartridgeStore.open(path, { writable: true });
    expect(store.listSnapshots().map((s) => s.name)).toEqual(['v1']);
    const pagesWithSnapshot = store.file.meta.pageCount;
    const reusableBefore = store.file.pager.space.reusablePages();
    store.deleteSnapshot('v1');
    // Still pinned until the deletion commits: a crash before that falls back to a tree with v1.
    expect(store.file.pager.space.reusablePages()).toBeLessThanOrEqual(reusableBefore);
    store.commit();
    expect(store.file.pager.space.reusablePages()).toBeGreaterThan(reusableBefore + 4 * 30);
    store.commit();
    expect(checkPageOwnership(store.file)).toEqual(clean);
    expect(store.file.meta.pageCount).toBeLessThanOrEqual(pagesWithSnapshot);
    expect(() => CartridgeStore.open(path, { snapshot: 'v1' })).toThrow(DiskkitError);
    store.close();
  });

  it('restore makes the snapshot current, frees what was written after it, and keeps the snapshot', async () => {
    const path = nextPath();
    let store = CartridgeStore.create(path, { compression: Compression.NONE, extentSize: 65536 });
    for (let i = 0; i < 4; i++) await store.writeFile(`/f${i}`, patternBytes(120_000, i + 1));
    store.commit();
    const v1 = await contents(store);
    store.createSnapshot('v1');
    store.commit();
    const pagesAtSnapshot = store.file.meta.pageCount;
    for (let i = 0; i < 4; i++) await store.writeFile(`/f${i}`, patternBytes(120_000, i + 90));
    await store.writeFile('/new', patternBytes(300_000, 7));
    store.commit();
    store.close();
    store = CartridgeStore.open(path, { writable: true });
    store.restoreSnapshot('v1');
    store.commit();
    expect(await contents(store)).toEqual(v1);
    expect(checkPageOwnership(store.file)).toEqual(clean);
    // What was written after v1 is free again: rewriting as much reuses it instead of growing.
    store.commit();
    for (let i = 0; i < 4; i++) await store.writeFile(`/g${i}`, patternBytes(120_000, i + 300));
    store.commit();
    expect(store.file.meta.pageCount).toBeLessThanOrEqual(pagesAtSnapshot + 130);
    expect(store.listSnapshots().map((s) => s.name)).toEqual(['v1']);
    store.close();
    const snapshot = CartridgeStore.open(path, { snapshot: 'v1' });
    expect(await contents(snapshot)).toEqual(v1);
    snapshot.close();
  });

  it('duplicate and unknown snapshot names are errors by code', () => {
    const store = CartridgeStore.create(nextPath());
    store.createSnapshot('a');
    const code = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        return (error as DiskkitError).code;
      }
      return 'no error';
    };
    expect(code(() => store.createSnapshot('a'))).toBe('E_EXISTS');
    expect(code(() => store.deleteSnapshot('b'))).toBe('E_NOT_FOUND');
    expect(code(() => store.createSnapshot('a/b'))).toBe('E_BAD_NAME');
    store.close();
  });

  it('random writes, snapshots, deletions and restores: every snapshot reads as it was, every page owned once', async () => {
    type Op =
      | { kind: 'write'; file: number; size: number; seed: number }
      | { kind: 'remove'; file: number }
      | { kind: 'commit' }
      | { kind: 'snapshot' }
      | { kind: 'drop'; pick: number }
      | { kind: 'restore'; pick: number }
      | { kind: 'reopen' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), file: fc.nat(6), size: fc.integer({ min: 0, max: 150_000 }), seed: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), file: fc.nat(6) }) },
      { weight: 3, arbitrary: fc.constant({ kind: 'commit' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('restore' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 50 }), async (ops) => {
        const path = nextPath();
        let store = CartridgeStore.create(path, { compression: Compression.NONE, extentSize: 65536 });
        let pending = new Map<string, string>();
        let committed = new Map<string, string>();
        // Snapshots as committed, and as still pending in the running transaction.
        let snaps = new Map<string, Map<string, string>>();
        let snapsPending = new Map<string, Map<string, string>>();
        try {
          for (const o of ops) {
            if (o.kind === 'write') {
              const data = patternBytes(o.size, o.seed + 1);
              await store.writeFile(`/f${o.file}`, data);
              pending.set(`f${o.file}`, Buffer.from(data).toString('base64'));
            } else if (o.kind === 'remove') {
              if (!pending.has(`f${o.file}`)) continue;
              store.remove(`/f${o.file}`);
              pending.delete(`f${o.file}`);
            } else if (o.kind === 'commit') {
              store.commit();
              committed = new Map(pending);
              snaps = new Map(snapsPending);
              expect(checkPageOwnership(store.file)).toEqual(clean);
            } else if (o.kind === 'snapshot') {
              const name = `s${n++}`;
              store.createSnapshot(name);
              snapsPending.set(name, new Map(committed));
            } else if (o.kind === 'drop') {
              const names = [...snapsPending.keys()];
              if (names.length === 0) continue;
              const name = names[o.pick % names.length]!;
              store.deleteSnapshot(name);
              snapsPending.delete(name);
            } else if (o.kind === 'restore') {
              const names = [...snapsPending.keys()];
              if (names.length === 0) continue;
              const name = names[o.pick % names.length]!;
              store.restoreSnapshot(name);
              pending = new Map(snapsPending.get(name)!);
            } else {
              store.close();
              store = CartridgeStore.open(path, { writable: true, extentSize: 65536 });
              pending = new Map(committed);
              snapsPending = new Map(snaps);
            }
          }
          store.commit();
          snaps = new Map(snapsPending);
          expect(checkPageOwnership(store.file)).toEqual(clean);
          store.close();
          for (const [name, model] of snaps) {
            const view = CartridgeStore.open(path, { snapshot: name });
            try {
              expect(await contents(view)).toEqual(new Map([...model].sort(([a], [b]) => (a < b ? -1 : 1))));
            } finally {
              view.close();
            }
          }
          store = CartridgeStore.open(path);
          expect(await contents(store)).toEqual(new Map([...pending].sort(([a], [b]) => (a < b ? -1 : 1))));
          return true;
        } finally {
          store.close();
        }
      }),
      { numRuns: 20 },
    );
  });
});

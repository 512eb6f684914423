import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { checkPageOwnership } from '../../src/engine/cartridge/ownership.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { DiskkitError } from '../../src/engine/errors.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('store');

async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof DiskkitError) return error.code;
    throw error;
  }
  return 'no error';
}

describe('CartridgeStore', () => {
  it('keeps files and directories across commit and reopen, and forgets what was not committed', async () => {
    const path = nextPath();
    let store = CartridgeStore.create(path, { compression: Compression.LZ4, nowMs: 1000 });
    store.mkdir('/docs');
    store.mkdir('/docs/deep');
    const big = new TextEncoder().encode('log line\n'.repeat(300_000)); // 2.7 MB, compressible
    const random = patternBytes(1_500_000, 5);
    await store.writeFile('/docs/deep/big.log', big);
    await store.writeFile('/random.bin', random);
    await store.writeFile('/tiny.txt', new TextEncoder().encode('hello'));
    await store.writeFile('/empty', new Uint8Array(0));
    store.commit();
    await store.writeFile('/uncommitted', new Uint8Array(10));
    store.close();
    store = CartridgeStore.open(path);
    expect(store.list('/')).toEqual([
      { name: 'docs', kind: 'directory', size: 0, mtimeMs: 1000 },
      { name: 'empty', kind: 'file', size: 0, mtimeMs: 1000 },
      { name: 'random.bin', kind: 'file', size: 1_500_000, mtimeMs: 1000 },
      { name: 'tiny.txt', kind: 'file', size: 5, mtimeMs: 1000 },
    ]);
    expect(Buffer.from(await store.readFile('/docs/deep/big.log')).equals(Buffer.from(big))).toBe(true);
    expect(Buffer.from(await store.readFile('/random.bin')).equals(Buffer.from(random))).toBe(true);
    expect(new TextDecoder().decode(await store.readFile('/tiny.txt'))).toBe('hello');
    expect((await store.readFile('/empty')).length).toBe(0);
    // lz4 pays on the log: the image is far smaller than the data in it.
    expect(store.file.meta.pageCount * 4096).toBeLessThan(big.length / 4 + random.length + 200_000);
    store.close();
  });

  it('stores runs of zeros as holes', async () => {
    const path = nextPath();
    const store = CartridgeStore.create(path, { compression: Compression.NONE });
    const sparse = new Uint8Array(64 * 1024 * 1024);
    sparse.set([1, 2, 3], 40 * 1024 * 1024);
    await store.writeFile('/sparse', sparse);
    store.commit();
    expect(store.file.meta.pageCount).toBeLessThan(300); // one 1 MiB extent, not 64
    expect(Buffer.from(await store.readFile('/sparse')).equals(Buffer.from(sparse))).toBe(true);
    store.close();
  });

  it('reports the usual errors by code', async () => {
    const store = CartridgeStore.create(nextPath());
    store.mkdir('/d');
    await store.writeFile('/d/f', new Uint8Array(3));
    expect(await codeOf(() => store.mkdir('/d'))).toBe('E_EXISTS');
    expect(await codeOf(() => store.readFile('/nope'))).toBe('E_NOT_FOUND');
    expect(await codeOf(() => store.readFile('/d'))).toBe('E_IS_DIR');
    expect(await codeOf(() => store.list('/d/f'))).toBe('E_NOT_DIR');
    expect(await codeOf(() => store.writeFile('/d/f/g', new Uint8Array(1)))).toBe('E_NOT_DIR');
    expect(await codeOf(() => store.remove('/d'))).toBe('E_NOT_EMPTY');
    expect(await codeOf(() => store.mkdir('/d/..'))).toBe('E_BAD_NAME');
    store.remove('/d/f');
    store.remove('/d');
    expect(store.list('/')).toEqual([]);
    store.close();
  });

  it('agrees with an in-memory model through random writes, overwrites, deletes and reopens, leaving no page owned twice or lost', async () => {
    const path = nextPath();
    type Op = { kind: 'write'; file: number; size: number; seed: number } | { kind: 'remove'; file: number } | { kind: 'commit' } | { kind: 'reopen' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), file: fc.nat(12), size: fc.oneof(fc.nat(600), fc.integer({ min: 600, max: 300_000 })), seed: fc.nat() }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), file: fc.nat(12) }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'commit' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), fc.constantFrom(Compression.NONE, Compression.LZ4, Compression.ZSTD), async (ops, compression) => {
        let store = CartridgeStore.create(path, { compression, extentSize: 65536 });
        let committed = new Map<string, Uint8Array>();
        let pending = new Map<string, Uint8Array>();
        try {
          for (const o of ops) {
            if (o.kind === 'write') {
              const data = patternBytes(o.size, o.seed + 1).map((b, i) => (i % 7 === 0 ? 0 : b % 16)); // half compressible
              await store.writeFile(`/f${o.file}`, data);
              pending.set(`f${o.file}`, data);
            } else if (o.kind === 'remove') {
              if (pending.has(`f${o.file}`)) {
                store.remove(`/f${o.file}`);
                pending.delete(`f${o.file}`);
              } else expect(await codeOf(() => store.remove(`/f${o.file}`))).toBe('E_NOT_FOUND');
            } else if (o.kind === 'commit') {
              store.commit();
              committed = new Map(pending);
              expect(checkPageOwnership(store.file)).toEqual({ orphans: [], doubleOwned: [], problems: [] });
            } else {
              store.close();
              store = CartridgeStore.open(path, { writable: true, extentSize: 65536 });
              pending = new Map(committed);
            }
          }
          store.commit();
          store.close();
          store = CartridgeStore.open(path, { writable: true });
          expect(checkPageOwnership(store.file)).toEqual({ orphans: [], doubleOwned: [], problems: [] });
          const names = store.list('/').map((e) => e.name);
          expect(names).toEqual([...pending.keys()].sort());
          for (const [name, data] of pending) expect(Buffer.from(await store.readFile(`/${name}`)).equals(Buffer.from(data))).toBe(true);
          return true;
        } finally {
          store.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('CartridgeStore rename', () => {
  it('moves a directory with everything under it in one entry, replaces files, and refuses moves into itself', async () => {
    const path = nextPath();
    let store = CartridgeStore.create(path);
    store.mkdir('/a');
    store.mkdir('/a/b');
    store.mkdir('/c');
    const deep = patternBytes(100_000, 3);
    await store.writeFile('/a/b/deep.bin', deep);
    await store.writeFile('/c/old.txt', new TextEncoder().encode('old'));
    await store.writeFile('/c/new.txt', new TextEncoder().encode('new'));
    store.rename('/a', '/c/a2');
    store.rename('/c/new.txt', '/c/old.txt');
    expect(await codeOf(() => store.rename('/c', '/c/a2/b/c'))).toBe('E_INVALID_MOVE');
    expect(await codeOf(() => store.rename('/c/a2', '/c/old.txt'))).toBe('E_EXISTS');
    expect(await codeOf(() => store.rename('/nope', '/x'))).toBe('E_NOT_FOUND');
    store.commit();
    store.close();
    store = CartridgeStore.open(path);
    expect(store.list('/').map((e) => e.name)).toEqual(['c']);
    expect(store.list('/c').map((e) => e.name)).toEqual(['a2', 'old.txt']);
    expect(new TextDecoder().decode(await store.readFile('/c/old.txt'))).toBe('new');
    expect(Buffer.from(await store.readFile('/c/a2/b/deep.bin')).equals(Buffer.from(deep))).toBe(true);
    expect(checkPageOwnership(store.file)).toEqual({ orphans: [], doubleOwned: [], problems: [] });
    store.close();
  });
});

describe('CartridgeStore encryption', () => {
  it('changing the passphrase keeps every file, and afterwards the old passphrase opens neither meta slot', async () => {
    const path = nextPath();
    let store = CartridgeStore.create(path, { compression: Compression.LZ4, passphrase: 'old secret' });
    const data = patternBytes(300_000, 9);
    await store.writeFile('/data', data);
    store.commit();
    const pagesBefore = store.file.meta.pageCount;
    store.changePassphrase('old secret', 'new secret');
    expect(store.file.meta.pageCount).toBeLessThanOrEqual(pagesBefore + 4); // no data rewritten
    store.close();
    try {
      CartridgeStore.open(path, { passphrase: 'old secret' });
      expect.unreachable();
    } catch (error) {
      expect((error as DiskkitError).context.reason).toBe('wrong-passphrase');
    }
    // Both slots carry the new wrap: even the older commit cannot be opened with the old passphrase.
    const bytes = readFileSync(path);
    const slots = [1, 2].map((page) => bytes.subarray(page * 4096 + 256, page * 4096 + 384).toString('hex'));
    expect(slots[0]).toBe(slots[1]);
    store = CartridgeStore.open(path, { passphrase: 'new secret' });
    expect(Buffer.from(await store.readFile('/data')).equals(Buffer.from(data))).toBe(true);
    store.close();
  });
});

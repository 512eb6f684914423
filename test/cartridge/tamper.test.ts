/**
 * Tampering with Cartridge images: 1,000 single-bit flips at random places (any page,
 * any extent, over three images: lz4/CRC-32, zstd/SHA-256 and encrypted), each followed
 * by reading every file and snapshot and running fsck. Never a crash (only DiskkitErrors),
 * never wrong bytes; a flip in a page or extent something uses is reported by fsck naming
 * that page or extent; corruption errors of reads name a page. Also: swapped encrypted
 * extents, a wrong passphrase, truncated images.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { type WorkingKeys, closeCartridgeFile, openCartridgeFile } from '../../src/engine/cartridge/cartridge-file.js';
import { BTree } from '../../src/engine/cartridge/btree.js';
import { checkTree } from '../../src/engine/cartridge/btree-check.js';
import { type BlockPointer } from '../../src/engine/cartridge/block-pointer.js';
import { decodeExtentRecord } from '../../src/engine/cartridge/extent-record.js';
import { readFreeList } from '../../src/engine/cartridge/freelist-page.js';
import { decodeInodeRecord } from '../../src/engine/cartridge/inode-record.js';
import { PageType } from '../../src/engine/cartridge/page.js';
import { decodeSnapshotRecord } from '../../src/engine/cartridge/snapshot-record.js';
import { checkCartridge } from '../../src/engine/cartridge/fsck-check.js';
import { ChecksumAlgorithm } from '../../src/engine/cartridge/checksum.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { DiskkitError } from '../../src/engine/errors.js';
import { seededRandom } from '../../src/engine/seeded-random.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('tamper');
const PAGE = 4096;

interface Built {
  path: string;
  current: Map<string, Uint8Array>;
  snapshot: Map<string, Uint8Array>;
  /** The last commit's generation; the one before it holds exactly the snapshot's files. */
  generation: number;
  keys?: WorkingKeys;
}

/** Files of every data mode, a snapshot, then rewrites and removals: shared, snapshot-only and free pages all exist. */
async function buildImage(options: { compression: number; checksum: number; passphrase?: string }): Promise<Built> {
  const path = nextPath();
  const store = CartridgeStore.create(path, { compression: options.compression as 0, checksumAlgorithm: options.checksum as 1, passphrase: options.passphrase, extentSize: 65536, nowMs: 5 });
  const current = new Map<string, Uint8Array>();
  for (let d = 0; d < 3; d++) {
    store.mkdir(`/dir${d}`);
    for (let f = 0; f < 6; f++) {
      const size = [0, 40, 500, 3000, 70_000, 140_000][f]!;
      const data = patternBytes(size, d * 100 + f + 1).map((b, i) => (i % 4 === 0 ? b : b & 0x1f));
      await store.writeFile(`/dir${d}/file-${f}`, data);
      current.set(`/dir${d}/file-${f}`, data);
    }
  }
  store.commit();
  store.createSnapshot('before');
  store.commit();
  const snapshot = new Map(current);
  for (let f = 3; f < 6; f++) {
    const data = patternBytes(30_000 + f * 10_000, 900 + f);
    await store.writeFile(`/dir1/file-${f}`, data);
    current.set(`/dir1/file-${f}`, data);
  }
  store.remove('/dir2/file-5');
  current.delete('/dir2/file-5');
  store.commit();
  const keys = store.file.keys ?? undefined;
  const generation = store.generation;
  store.close();
  return { path, current, snapshot, generation, keys };
}

/** What each used page is: 'fixed' (0-2), 'node', 'freelist', or the first page of its extent. */
function pageRoles(built: Built): Map<number, { role: string; extentStart?: number }> {
  const file = openCartridgeFile(built.path, { keys: built.keys });
  const roles = new Map<number, { role: string; extentStart?: number }>();
  try {
    const pager = file.pager;
    for (const p of [0, 1, 2]) roles.set(p, { role: 'fixed' });
    const tree = (type: 16 | 17 | 18, root: BlockPointer) => {
      for (const page of checkTree(pager, type, root).pages.keys()) roles.set(page, { role: 'node' });
      return new BTree(pager, type, root).range();
    };
    const catalog = (root: BlockPointer) => {
      for (const [, value] of tree(PageType.CATALOG_NODE, root)) {
        const inode = decodeInodeRecord(value);
        // Packs and one-extent files (§7.5, §7.2 mode 2) carry their extent record in the entry.
        if (inode.data.mode === 'extent') {
          const record = decodeExtentRecord(inode.data.record, 0, PAGE, file.meta.pageCount);
          for (let i = 0; i < record.pageCount; i++) roles.set(record.address + i, { role: 'extent', extentStart: record.address });
        }
        if (inode.data.mode !== 'extent-map') continue;
        for (const [, extent] of tree(PageType.EXTENT_MAP_NODE, inode.data.root)) {
          const record = decodeExtentRecord(extent, 0, PAGE, file.meta.pageCount);
          for (let i = 0; i < record.pageCount; i++) roles.set(record.address + i, { role: 'extent', extentStart: record.address });
        }
      }
    };
    catalog(file.meta.catalogRoot);
    for (const [, value] of tree(PageType.SNAPSHOT_NODE, file.meta.snapshotRoot)) catalog(decodeSnapshotRecord(value).catalogRoot);
    for (const pointer of readFreeList(pager, file.meta.freeListHead, file.meta.pageCount).chain) roles.set(pointer.address, { role: 'freelist' });
  } finally {
    closeCartridgeFile(file);
  }
  return roles;
}

/** Page numbers a message names: "page N", "pages A..B" (every page of the range). */
function namedPages(message: string): Set<number> {
  const pages = new Set<number>();
  for (const m of message.matchAll(/pages? (\d+)(?:\.\.(\d+))?/g)) {
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    for (let p = first; p <= Math.min(last, first + 100_000); p++) pages.add(p);
  }
  if (/superblock/.test(message)) pages.add(0);
  return pages;
}

/** Reads every file of the image and of its snapshot: wrong bytes and errors that are not DiskkitErrors are collected separately. */
async function readEverything(path: string, built: Built): Promise<{ wrong: string[]; errors: DiskkitError[] }> {
  const wrong: string[] = [];
  const errors: DiskkitError[] = [];
  const view = async (snapshot: string | undefined, model: Map<string, Uint8Array>) => {
    let store: CartridgeStore;
    try {
      store = CartridgeStore.open(path, { keys: built.keys, snapshot });
    } catch (error) {
      if (!(error instanceof DiskkitError)) throw error;
      errors.push(error);
      return;
    }
    // A flip in the newest meta page makes it invalid, and the image opens at the commit
    // before (§4): that commit changed nothing but the snapshot table, so its files are the snapshot's.
    if (snapshot === undefined && store.generation === built.generation - 1) model = built.snapshot;
    try {
      for (const [name, data] of model) {
        try {
          const got = await store.readFile(name);
          if (!Buffer.from(got).equals(Buffer.from(data))) wrong.push(`${snapshot ?? 'current'}:${name}`);
        } catch (error) {
          if (!(error instanceof DiskkitError)) throw error;
          errors.push(error);
        }
      }
    } finally {
      store.close();
    }
  };
  await view(undefined, built.current);
  await view('before', built.snapshot);
  return { wrong, errors };
}

const KINDS = [
  ['lz4, CRC-32', { compression: Compression.LZ4, checksum: ChecksumAlgorithm.CRC32 }, 450],
  ['zstd, SHA-256', { compression: Compression.ZSTD, checksum: ChecksumAlgorithm.SHA256 }, 300],
  ['encrypted lz4', { compression: Compression.LZ4, checksum: ChecksumAlgorithm.CRC32, passphrase: 'tamper test' }, 250],
] as const;

describe.each(KINDS)('tampering with a %s image', (_name, options, flips) => {
  it(`${flips} single-bit flips: never a crash or wrong bytes; every flip in a used page or extent is reported by its address`, async () => {
    const built = await buildImage(options);
    const roles = pageRoles(built);
    const original = readFileSync(built.path);
    const pages = original.length / PAGE;
    const random = seededRandom(options.compression * 31 + options.checksum);
    const victim = `${built.path}.victim`;
    let touched = 0;
    const misses: string[] = [];
    for (let i = 0; i < flips; i++) {
      const page = Math.floor(random() * pages);
      // Half the flips in the first 512 bytes of a page, where headers, pointers and records live.
      const at = page * PAGE + Math.floor(random() * (random() < 0.5 ? 512 : PAGE));
      const bytes = Buffer.from(original);
      bytes[at]! ^= 1 << Math.floor(random() * 8);
      writeFileSync(victim, bytes);
      const { wrong, errors } = await readEverything(victim, built);
      expect(wrong, `flip at byte ${at} (page ${page})`).toEqual([]);
      for (const error of errors) {
        if (error.code === 'E_CORRUPT' || error.code === 'E_CHECKSUM' || error.code === 'E_TRUNCATED') expect(namedPages(error.message).size, error.message).toBeGreaterThan(0);
      }
      const report = await checkCartridge(victim, { keys: built.keys });
      const role = roles.get(page);
      if (role === undefined) continue;
      touched++;
      const named = new Set(report.errors.flatMap((f) => [...namedPages(f.message), ...(f.page === undefined ? [] : [f.page])]));
      if (!named.has(page) && !(role.extentStart !== undefined && named.has(role.extentStart))) misses.push(`byte ${at} (page ${page}, ${role.role}): ${report.errors.map((e) => e.message).join('; ') || 'fsck clean'}`);
    }
    expect(misses).toEqual([]);
    // Most of an image is in use: the flips that mattered were the majority.
    expect(touched).toBeGreaterThan(flips / 2);
  }, 300_000);
});

describe('other tampering', () => {
  it('two encrypted extents swapped: reading either file fails naming its extent, fsck names both', async () => {
    const built = await buildImage({ compression: Compression.NONE, checksum: ChecksumAlgorithm.CRC32, passphrase: 'swap' });
    const roles = pageRoles(built);
    // Two different extents of one page count: the 70,000-byte files of dir0 and dir2 (two extents each, first 16 pages).
    const starts = [...new Set([...roles.values()].flatMap((r) => (r.extentStart === undefined ? [] : [r.extentStart])))].sort((a, b) => a - b);
    const sizeOf = (s: number) => [...roles.entries()].filter(([, r]) => r.extentStart === s).length;
    const [a, b] = starts.filter((s) => sizeOf(s) === 16);
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    const bytes = readFileSync(built.path);
    const first = Buffer.from(bytes.subarray(a! * PAGE, (a! + 16) * PAGE));
    bytes.copy(bytes, a! * PAGE, b! * PAGE, (b! + 16) * PAGE);
    first.copy(bytes, b! * PAGE);
    writeFileSync(built.path, bytes);
    const { wrong, errors } = await readEverything(built.path, built);
    expect(wrong).toEqual([]);
    const messages = errors.map((e) => e.message);
    expect(messages.some((m) => m.includes(`extent at page ${a}: authentication tag mismatch`))).toBe(true);
    expect(messages.some((m) => m.includes(`extent at page ${b}: authentication tag mismatch`))).toBe(true);
    const report = await checkCartridge(built.path, { keys: built.keys });
    const named = report.errors.filter((e) => e.code === 'E_FSCK_EXTENT').map((e) => e.page);
    expect(named).toContain(a);
    expect(named).toContain(b);
  }, 60_000);

  it('a wrong passphrase says so, and no key at all asks for one', async () => {
    const built = await buildImage({ compression: Compression.LZ4, checksum: ChecksumAlgorithm.CRC32, passphrase: 'right' });
    const failure = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error as DiskkitError;
      }
      throw new Error('no error');
    };
    const wrong = failure(() => CartridgeStore.open(built.path, { passphrase: 'wrong' }));
    expect([wrong.code, wrong.message, wrong.context.reason]).toEqual(['E_BAD_PASSPHRASE', 'wrong passphrase', 'wrong-passphrase']);
    const none = failure(() => CartridgeStore.open(built.path));
    expect(none.context.reason).toBe('passphrase-needed');
    await expect(checkCartridge(built.path, { passphrase: 'wrong' })).rejects.toMatchObject({ message: 'wrong passphrase' });
  }, 60_000);

  it('a truncated image is a clear error at every length, and fsck says what is missing', async () => {
    const built = await buildImage({ compression: Compression.LZ4, checksum: ChecksumAlgorithm.CRC32 });
    const original = readFileSync(built.path);
    const victim = `${built.path}.cut`;
    for (const length of [0, 100, 511, 4096, 3 * 4096, 3 * 4096 + 7, Math.floor(original.length / 2), original.length - 4096, original.length - 1]) {
      writeFileSync(victim, original);
      truncateSync(victim, length);
      let error: DiskkitError | null = null;
      try {
        CartridgeStore.open(victim).close();
      } catch (caught) {
        error = caught as DiskkitError;
      }
      expect(error, `length ${length}`).toBeInstanceOf(DiskkitError);
      expect(['E_TRUNCATED', 'E_CORRUPT', 'E_UNKNOWN_FORMAT'], `${length}: ${error!.code} ${error!.message}`).toContain(error!.code);
      if (length >= 3 * 4096) expect(error!.message).toMatch(/truncated: \d+ pages, the commit needs \d+/);
      const report = await checkCartridge(victim);
      expect(report.clean).toBe(false);
      expect(report.errors[0]!.code).toBe('E_FSCK_UNREADABLE');
    }
  }, 60_000);
});

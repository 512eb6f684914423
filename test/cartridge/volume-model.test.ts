/**
 * Model-based test of the Cartridge Volume (the adapter every command uses), opened
 * through the format registry like the CLI opens it: seeded random mkdir, write,
 * overwrite, remove and move operations, and snapshot create, delete and restore and
 * compaction (as the snapshot and compact commands do them, on the store), each
 * committed, the image closed and reopened, and the whole tree (names, types, sizes,
 * bytes) compared with an in-memory model — and every snapshot's tree, read through
 * IMAGE@NAME, with the model as it was when the snapshot was made.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CartridgeStore } from '../../src/engine/cartridge/store.js';
import { Compression, type CompressionId } from '../../src/engine/cartridge/superblock.js';
import { ChecksumAlgorithm } from '../../src/engine/cartridge/checksum.js';
import { checkPageOwnership } from '../../src/engine/cartridge/ownership.js';
import { compactCartridge } from '../../src/engine/cartridge/compact.js';
import { openVolume } from '../../src/engine/open-volume.js';
import { setPassphraseProvider } from '../../src/engine/passphrase.js';
import { seededRandom } from '../../src/engine/seeded-random.js';
import { DiskkitError } from '../../src/engine/errors.js';
import type { Volume } from '../../src/engine/volume.js';
import { patternBytes, scratchDir } from './scratch.js';

const nextPath = scratchDir('volume-model');
afterAll(() => setPassphraseProvider(() => undefined));

type Model = Map<string, Uint8Array | 'dir'>;

/** The volume's whole tree, walked through list/stat/readFile. */
function snapshotOf(volume: Volume): Model {
  const out: Model = new Map();
  const walk = (dir: string): void => {
    for (const entry of volume.list(dir)) {
      if (entry.type === 'dir') {
        out.set(entry.path, 'dir');
        walk(entry.path);
      } else {
        const bytes = new Uint8Array(volume.readFile(entry));
        expect(bytes.length, entry.path).toBe(entry.size);
        out.set(entry.path, bytes);
      }
    }
  };
  walk('/');
  return out;
}

function expectSame(actual: Model, model: Model, step: string): void {
  expect([...actual.keys()].sort(), step).toEqual([...model.keys()].sort());
  for (const [path, value] of model) {
    const got = actual.get(path)!;
    if (value === 'dir') expect(got, `${step} ${path}`).toBe('dir');
    // Buffer.compare: a mismatch says which file without printing megabytes.
    else expect(Buffer.compare(Buffer.from(got as Uint8Array), Buffer.from(value)), `${step} ${path}`).toBe(0);
  }
}

/** File contents: empty, inline, one extent, several extents with an all-zero (hole) extent between. */
function contentOf(random: () => number, seed: number): Uint8Array {
  const kind = Math.floor(random() * 5);
  if (kind === 0) return new Uint8Array(0);
  if (kind === 1) return patternBytes(1 + Math.floor(random() * 512), seed);
  if (kind === 2) return patternBytes(513 + Math.floor(random() * 200_000), seed);
  if (kind === 3) {
    // Compressible text: lz4/zstd keep it, the raw fallback does not apply.
    const line = Buffer.from(`line ${seed} of a compressible file\n`);
    const out = new Uint8Array(300_000 + Math.floor(random() * 900_000));
    for (let at = 0; at < out.length; at += line.length) out.set(line.subarray(0, Math.min(line.length, out.length - at)), at);
    return out;
  }
  const out = new Uint8Array(3 * 1024 * 1024 + Math.floor(random() * 1000));
  out.set(patternBytes(1024 * 1024, seed), 0);
  out.set(patternBytes(out.length - 2 * 1024 * 1024, seed + 1), 2 * 1024 * 1024);
  return out;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof DiskkitError) return error.code;
    throw error;
  }
  return 'no error';
}

interface Variant {
  name: string;
  compression: CompressionId;
  checksum: 1 | 2;
  passphrase?: string;
  steps: number;
  seed: number;
}

const VARIANTS: Variant[] = [
  { name: 'lz4, crc32', compression: Compression.LZ4, checksum: ChecksumAlgorithm.CRC32, steps: 60, seed: 11 },
  { name: 'zstd, sha256', compression: Compression.ZSTD, checksum: ChecksumAlgorithm.SHA256, steps: 50, seed: 12 },
  { name: 'none, encrypted', compression: Compression.NONE, checksum: ChecksumAlgorithm.CRC32, passphrase: 'model passphrase', steps: 4, seed: 13 },
];

describe('Cartridge Volume against a model, reopened after every step', () => {
  for (const variant of VARIANTS) {
    it(`${variant.name}: ${variant.steps} random steps`, async () => {
      const path = nextPath();
      setPassphraseProvider(() => variant.passphrase);
      CartridgeStore.create(path, { compression: variant.compression, checksumAlgorithm: variant.checksum, passphrase: variant.passphrase }).close();
      const random = seededRandom(variant.seed);
      const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
      let model: Model = new Map();
      /** Snapshot name → the model when it was made. */
      const snapshots = new Map<string, Model>();
      let names = 0;
      const codecs = ['lz4', 'zstd', 'none', undefined];
      let what = 'mkfs';
      for (let step = 0; step <= variant.steps; step++) {
        // One open per step (scrypt makes an encrypted open cost ~0.2 s): what the last
        // step committed is compared first, through the reopened image.
        const volume = await openVolume(path, { writable: step < variant.steps });
        try {
          expectSame(snapshotOf(volume), model, `after step ${step - 1} (${what})`);
        } catch (error) {
          volume.close();
          throw error;
        }
        for (const [name, kept] of snapshots) {
          const view = await openVolume(path, { snapshot: name });
          try {
            expectSame(snapshotOf(view), kept, `snapshot ${name} after step ${step - 1} (${what})`);
          } finally {
            view.close();
          }
        }
        if (step === variant.steps) {
          volume.close();
          break;
        }
        const dirs = ['/', ...[...model].filter(([, v]) => v === 'dir').map(([p]) => p)];
        const files = [...model].filter(([, v]) => v !== 'dir').map(([p]) => p);
        const op = random();
        if (op >= 0.82) {
          // Store-level operations, as `snapshot` and `compact` run them (the volume holds the writer lock).
          volume.close();
          const store = CartridgeStore.open(path, { writable: true, passphrase: variant.passphrase });
          try {
            const names_ = [...snapshots.keys()];
            if (op < 0.89) {
              const name = `s${names++}`;
              store.createSnapshot(name);
              store.commit();
              snapshots.set(name, new Map(model));
              what = `snapshot create ${name}`;
            } else if (op < 0.92 && names_.length > 0) {
              const name = pick(names_);
              store.deleteSnapshot(name);
              store.commit();
              snapshots.delete(name);
              what = `snapshot delete ${name}`;
            } else if (op < 0.95 && names_.length > 0) {
              const name = pick(names_);
              store.restoreSnapshot(name);
              store.commit();
              model = new Map(snapshots.get(name)!);
              what = `snapshot restore ${name}`;
            } else {
              const report = compactCartridge(store.file);
              expect(report.pagesAfter, 'compaction never grows the image').toBeLessThanOrEqual(report.pagesBefore);
              what = `compact (${report.pagesBefore} -> ${report.pagesAfter} pages)`;
            }
          } finally {
            store.close();
          }
          continue;
        }
        if (op < 0.2) {
          const at = `${pick(dirs)}/d${names++}`.replace('//', '/');
          volume.mkdir(at);
          model.set(at, 'dir');
          what = `mkdir ${at}`;
        } else if (op < 0.5 || files.length === 0) {
          const at = `${pick(dirs)}/f${names++}`.replace('//', '/');
          const data = contentOf(random, step);
          volume.writeFile(at, data, { compression: pick(codecs) });
          model.set(at, data);
          what = `write ${at} (${data.length})`;
        } else if (op < 0.65) {
          const at = pick(files);
          const data = contentOf(random, step + 1000);
          volume.writeFile(at, data, { compression: pick(codecs) });
          model.set(at, data);
          what = `overwrite ${at} (${data.length})`;
        } else if (op < 0.8) {
          const at = pick([...files, ...dirs.filter((d) => d !== '/')]);
          const isDir = model.get(at) === 'dir';
          const hasChildren = [...model.keys()].some((p) => p.startsWith(at + '/'));
          if (isDir && hasChildren) expect(codeOf(() => volume.remove(at)), `rm ${at}`).toBe('E_NOT_EMPTY');
          volume.remove(at, { recursive: true });
          for (const p of [...model.keys()]) if (p === at || p.startsWith(at + '/')) model.delete(p);
          what = `rm -r ${at}`;
        } else {
          const from = pick([...files, ...dirs.filter((d) => d !== '/')]);
          const into = pick(dirs);
          if (into === from || into.startsWith(from + '/')) {
            expect(codeOf(() => volume.rename(from, `${into}/m${names++}`)), `mv ${from} into itself`).toBe('E_INVALID_MOVE');
            what = `mv ${from} into itself (refused)`;
          } else {
            const to = `${into}/m${names++}`.replace('//', '/');
            volume.rename(from, to);
            for (const [p, v] of [...model]) {
              if (p === from || p.startsWith(from + '/')) {
                model.delete(p);
                model.set(to + p.slice(from.length), v);
              }
            }
            what = `mv ${from} ${to}`;
          }
        }
        volume.commit();
        volume.close();
      }
      // Every page is in the tree, the free list or free space: nothing leaked by the adapter's writes.
      const store = CartridgeStore.open(path, { writable: true, passphrase: variant.passphrase });
      try {
        expect(checkPageOwnership(store.file)).toEqual({ orphans: [], doubleOwned: [], problems: [] });
      } finally {
        store.close();
      }
    }, 120_000);
  }
});

/**
 * Model-based test of the FAT write path: random sequences of mkdir / write /
 * overwrite / rm / mv run against the Volume API of a mkfs.fat image and against an
 * in-memory model of the tree (case-insensitive names, case kept as first written).
 * Afterwards the image must match the model through diskkit itself, through mtools
 * (mdir -/ -b, mcopy -s) and pass fsck.fat -n. FAT12, FAT16 and FAT32.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from './helpers/oracle.js';
import { expectFsckClean, freshDir, makeImage, mdirPaths, mtoolsTree, type FatKind } from './helpers/fat-write.js';
import { FileBlockSource } from '../src/io/block-source.js';
import { FatVolume } from '../src/engine/fat/volume.js';
import { DiskkitError } from '../src/engine/errors.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'mcopy', 'mdir');
const RUNS = 40;
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-fatm-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Names chosen to collide: case variants, the same 8.3 basis (~1, ~2 tails), non-ASCII.
 * (A name spelling another entry's generated short name, e.g. LONGNA~1.TXT, is that
 * entry on FAT, as on Windows; the model does not follow aliases, so none is used.)
 */
const NAMES = ['a', 'A', 'b.txt', 'B.TXT', 'long name one.txt', 'Long Name One.TXT', 'long name two.txt', 'long name three', 'dir', 'ünï.txt', 'x.y.z'];
const SIZES = [0, 1, 511, 512, 513, 3000, 20000];

type Op =
  | { op: 'mkdir'; dir: number; name: string }
  | { op: 'write'; dir: number; name: string; size: number; seed: number }
  | { op: 'rm'; target: number }
  | { op: 'mv'; target: number; dir: number; name: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('mkdir' as const), dir: fc.nat(20), name: fc.constantFrom(...NAMES) }),
  fc.record({ op: fc.constant('write' as const), dir: fc.nat(20), name: fc.constantFrom(...NAMES), size: fc.constantFrom(...SIZES), seed: fc.nat(255) }),
  fc.record({ op: fc.constant('rm' as const), target: fc.nat(40) }),
  fc.record({ op: fc.constant('mv' as const), target: fc.nat(40), dir: fc.nat(20), name: fc.constantFrom(...NAMES) }),
);

/** The model: path (as first spelled) -> null for a directory or the file's bytes. */
class Model {
  readonly nodes = new Map<string, Buffer | null>([['/', null]]);
  dirs(): string[] {
    return [...this.nodes].filter(([, v]) => v === null).map(([k]) => k).sort();
  }
  entries(): string[] {
    return [...this.nodes.keys()].filter((k) => k !== '/').sort();
  }
  find(path: string): string | undefined {
    const f = path.toUpperCase();
    for (const k of this.nodes.keys()) if (k.toUpperCase() === f) return k;
    return undefined;
  }
  subtree(path: string): string[] {
    return [...this.nodes.keys()].filter((k) => k === path || k.toUpperCase().startsWith(path.toUpperCase() + '/'));
  }
}

const join2 = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);
const data = (size: number, seed: number): Buffer => Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + seed) & 0xff));

/** Applies `op` to both; returns the error code the engine must give, or null when it must succeed. */
function apply(model: Model, volume: FatVolume, op: Op): void {
  const expectFailure = (fn: () => unknown, code: string): void => {
    let got: unknown;
    try {
      fn();
    } catch (error) {
      got = error;
    }
    expect(got, `${JSON.stringify(op)} should fail with ${code}`).toBeInstanceOf(DiskkitError);
    expect((got as DiskkitError).code).toBe(code);
  };
  if (op.op === 'mkdir' || op.op === 'write') {
    const dirs = model.dirs();
    const parent = dirs[op.dir % dirs.length]!;
    const path = join2(parent, op.name);
    const existing = model.find(path);
    if (op.op === 'mkdir') {
      if (existing) return expectFailure(() => volume.mkdir(path), 'E_EXISTS');
      volume.mkdir(path);
      model.nodes.set(path, null);
      return;
    }
    if (existing && model.nodes.get(existing) === null) return expectFailure(() => volume.writeFile(path, data(op.size, op.seed)), 'E_IS_DIR');
    volume.writeFile(path, data(op.size, op.seed));
    model.nodes.set(existing ?? path, data(op.size, op.seed));
    return;
  }
  const entries = model.entries();
  if (entries.length === 0) return;
  const target = entries[op.target % entries.length]!;
  const isDir = model.nodes.get(target) === null;
  if (op.op === 'rm') {
    volume.remove(target, { recursive: true });
    for (const k of model.subtree(target)) model.nodes.delete(k);
    return;
  }
  const dirs = model.dirs();
  const parent = dirs[op.dir % dirs.length]!;
  const to = join2(parent, op.name);
  if (isDir && (parent.toUpperCase() + '/').startsWith(target.toUpperCase() + '/')) return expectFailure(() => volume.rename(target, to), 'E_INVALID_MOVE');
  const existing = model.find(to);
  if (existing && existing !== target) {
    const existingIsDir = model.nodes.get(existing) === null;
    if (existingIsDir) return expectFailure(() => volume.rename(target, to), 'E_EXISTS');
    if (isDir) return expectFailure(() => volume.rename(target, to), 'E_NOT_DIR');
    model.nodes.delete(existing);
  }
  volume.rename(target, to);
  const moved = model.subtree(target).map((k) => [k, model.nodes.get(k)!] as const);
  for (const [k] of moved) model.nodes.delete(k);
  for (const [k, v] of moved) model.nodes.set(to + k.slice(target.length), v);
}

/** The image's tree through diskkit's own read side. */
function diskkitTree(volume: FatVolume): Map<string, Buffer | null> {
  const out = new Map<string, Buffer | null>();
  const walk = (dir: string): void => {
    for (const e of volume.list(dir)) {
      if (e.type === 'dir') {
        out.set(e.path, null);
        walk(e.path);
      } else out.set(e.path, volume.readFile(e.path));
    }
  };
  walk('/');
  return out;
}

describe.each(['fat12', 'fat16', 'fat32'] as FatKind[])('%s: random write sequences agree with a model', (type) => {
  it.runIf(HAVE)(`${RUNS} sequences: diskkit, mtools and fsck.fat all see the model's tree`, () => {
    const dir = freshDir('model-', work);
    let n = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
        const img = makeImage(dir, type, `m${n++}.img`);
        const model = new Model();
        const volume = FatVolume.open(FileBlockSource.open(img, { writable: true }), { writable: true });
        try {
          for (const op of ops) apply(model, volume, op);
          volume.commit();
        } finally {
          volume.close();
        }
        const expected = new Map([...model.nodes].filter(([k]) => k !== '/'));
        const reopened = FatVolume.open(FileBlockSource.open(img));
        try {
          const seen = diskkitTree(reopened);
          expect([...seen.keys()].sort()).toEqual([...expected.keys()].sort());
          for (const [k, v] of expected) expect(seen.get(k), k).toEqual(v);
        } finally {
          reopened.close();
        }
        expectFsckClean(img);
        expect(mdirPaths(img)).toEqual([...expected].map(([k, v]) => k.slice(1) + (v === null ? '/' : '')).sort());
        const viaMtools = mtoolsTree(img, freshDir('out-', dir));
        expect(viaMtools).toEqual(new Map([...expected].map(([k, v]) => [k.slice(1) + (v === null ? '/' : ''), v]).sort()));
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});

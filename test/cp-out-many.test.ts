/**
 * cp -r out of trees big enough for the host-write worker (host-write-queue.ts takes
 * over from a few hundred entries): every file arrives whole with its bytes and times,
 * a write that fails is reported with its path while the rest is copied, and an
 * interrupted copy leaves no partial file.
 * Expectations come from the host tree the images were made from (FAT: by mkfs.fat and
 * mcopy; Cartridge: by diskkit's own cp in, checked here against that tree).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { BIN, diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';

const HAVE = requireTools('mkfs.fat', 'mcopy');
const MENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
let work = '';
let tree = '';

/** 12 directories of 60 files (0 B to 20 KB), plus two files past the 256 KiB a batch takes whole. */
function buildTree(root: string): void {
  let seed = 99;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
  for (let d = 0; d < 12; d++) {
    const dir = join(root, `dir-${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 60; f++) {
      const size = f === 0 ? 0 : next() % 20_000;
      const bytes = Buffer.alloc(size);
      for (let i = 0; i < size; i++) bytes[i] = next() >>> 24;
      writeFileSync(join(dir, `file-${String(f).padStart(3, '0')}.bin`), bytes);
    }
  }
  writeFileSync(join(root, 'dir-5', 'large-a.bin'), Buffer.alloc(300_000, 0x5a));
  writeFileSync(join(root, 'dir-9', 'large-b.bin'), Buffer.alloc(700_000, 0xa5));
}

/** Relative path → bytes, for every file under `root`. */
function filesUnder(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(root, p), readFileSync(p));
    }
  };
  walk(root);
  return out;
}

const images: Record<string, string> = {};

beforeAll(async () => {
  if (!HAVE) return;
  work = mkdtempSync(join(tmpdir(), 'diskkit-cp-out-many-'));
  tree = join(work, 'tree');
  buildTree(tree);
  images.fat = join(work, 'many.img');
  execFileSync('mkfs.fat', ['-C', '-F', '16', images.fat, '40960'], { stdio: 'ignore' });
  for (const d of readdirSync(tree)) execFileSync('mcopy', ['-i', images.fat, '-s', '-m', join(tree, d), '::/'], { env: MENV });
  images.cartridge = join(work, 'many.cart');
  expect((await diskkit(['mkfs', '--type', 'cartridge', '--compress', 'zstd', images.cartridge])).exitCode).toBe(0);
  expect((await diskkit(['cp', '-r', `${tree}/.`, `${images.cartridge}:/`])).exitCode).toBe(0);
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.runIf(HAVE).each(['fat', 'cartridge'])('cp -r out of a %s image of 700 files', (kind) => {
  it('writes every file whole, with the bytes of the source tree', async () => {
    const out = join(work, `${kind}-all`);
    const r = await diskkit(['cp', '-r', `${images[kind]}:/`, out]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const want = filesUnder(tree);
    const got = filesUnder(out);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [path, bytes] of want) expect(got.get(path)?.equals(bytes), path).toBe(true);
    if (kind === 'cartridge') {
      // The cartridge keeps modification times to the millisecond (truncated): they come back as they went in.
      for (const path of ['dir-0/file-000.bin', 'dir-7/file-031.bin', 'dir-9/large-b.bin']) {
        const ms = (p: string) => statSync(p, { bigint: true }).mtimeNs / 1_000_000n;
        expect(ms(join(out, path))).toBe(ms(join(tree, path)));
      }
    }
  });

  it('reports a file the host refuses, with its path, and copies all the others (exit 1)', async () => {
    const out = join(work, `${kind}-blocked`);
    // A directory where a file goes: creating the file fails (EISDIR).
    mkdirSync(join(out, 'dir-6', 'file-030.bin'), { recursive: true });
    const r = await diskkit(['--json', 'cp', '-r', `${images[kind]}:/`, out]);
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout) as { files: number; errors: { path: string; code: string; message: string }[] };
    expect(doc.errors).toHaveLength(1);
    expect(doc.errors[0]!.path).toBe(join(out, 'dir-6', 'file-030.bin'));
    expect(doc.errors[0]!.code).toBe('E_IO');
    expect(doc.errors[0]!.message).toMatch(/^cannot create output file/);
    const want = filesUnder(tree);
    want.delete(join('dir-6', 'file-030.bin'));
    expect(doc.files).toBe(want.size);
    const got = filesUnder(out);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [path, bytes] of want) expect(got.get(path)?.equals(bytes), path).toBe(true);
  });
});

describe.runIf(HAVE)('cp -r out, interrupted', () => {
  it.each([1, 2])('leaves only whole files after %i Ctrl-C', async (presses) => {
    const out = join(work, `interrupted-${presses}`);
    const child = execa('node', [BIN, 'cp', '-r', `${images.cartridge}:/`, out], { reject: false, env: { NO_COLOR: '1' } });
    // Once the first directories exist the copy is under way.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      let count = 0;
      try {
        count = readdirSync(out).length;
      } catch {
        count = 0;
      }
      if (count >= 2) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    for (let i = 0; i < presses; i++) child.kill('SIGINT');
    const r = await child;
    expect([0, 130]).toContain(r.exitCode);
    const want = filesUnder(tree);
    for (const [path, bytes] of filesUnder(out)) expect(bytes.equals(want.get(path)!), path).toBe(true);
  });
});

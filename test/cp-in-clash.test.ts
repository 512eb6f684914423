/**
 * Case-only name clashes on copy-in: FAT ignores case, so OK.TXT and ok.txt from a
 * case-sensitive host are one name. The second must never silently replace the first:
 * --on-clash fail (default) reports E_NAME_CLASH naming both sources and copies the
 * rest; skip, rename and overwrite do what they say. Read back through mtools.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { expectFsckClean, freshDir, makeImage, MENV, mdirPaths } from './helpers/fat-write.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'mcopy', 'mdir', 'mtype');
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-clash-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** OK.TXT ("f") and ok.txt ("c"), and a file 'a' in both sub/ and SUB/, plus one file that clashes with nothing. */
function clashingTree(dir: string): string {
  const host = join(dir, 'src');
  mkdirSync(join(host, 'sub'), { recursive: true });
  mkdirSync(join(host, 'SUB'));
  writeFileSync(join(host, 'OK.TXT'), 'f');
  writeFileSync(join(host, 'ok.txt'), 'c');
  writeFileSync(join(host, 'SUB', 'a'), 'upper a');
  writeFileSync(join(host, 'sub', 'a'), 'lower a');
  writeFileSync(join(host, 'sub', 'b'), 'b');
  writeFileSync(join(host, 'plain.txt'), 'plain');
  return host;
}

const mtype = (img: string, path: string) => execFileSync('mtype', ['-i', img, `::${path}`], { env: MENV, encoding: 'utf8' });

describe('copy-in: case-only name clashes', () => {
  it.runIf(HAVE)('default (fail): the second of each clash is refused with E_NAME_CLASH naming both, the rest is copied, exit 1', async () => {
    const dir = freshDir('fail-', work);
    const host = clashingTree(dir);
    const img = makeImage(dir, 'fat12');
    const r = await diskkit(['--json', 'cp', '-r', `${host}/.`, `${img}:/`]);
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.errors.map((e: { code: string; path: string }) => [e.code, e.path])).toEqual([['E_NAME_CLASH', '/ok.txt'], ['E_NAME_CLASH', '/sub/a']]);
    expect(doc.errors[0].message).toContain(join(host, 'ok.txt'));
    expect(doc.errors[0].message).toContain(join(host, 'OK.TXT'));
    expectFsckClean(img);
    expect(mdirPaths(img)).toEqual(['OK.TXT', 'SUB/', 'SUB/a', 'SUB/b', 'plain.txt']);
    expect(mtype(img, '/OK.TXT')).toBe('f');
    expect(mtype(img, '/SUB/a')).toBe('upper a');
    // without --json: one diskkit: line per clash on stderr
    const img2 = makeImage(dir, 'fat12', 'again.img');
    const human = await diskkit(['cp', '-r', `${host}/.`, `${img2}:/`]);
    expect(human.exitCode).toBe(1);
    expect(human.stderr.split('\n').filter((l) => l.startsWith(`diskkit: ${img2}: `) && l.includes('ignores case'))).toHaveLength(2);
  });

  it.runIf(HAVE)('--on-clash rename keeps both under distinct names; skip keeps the first; overwrite takes the last', async () => {
    const dir = freshDir('policies-', work);
    const host = clashingTree(dir);
    const renamed = makeImage(dir, 'fat16', 'rename.img');
    const r = await diskkit(['cp', '-r', '--on-clash', 'rename', `${host}/.`, `${renamed}:/`]);
    expect(r.exitCode).toBe(0);
    expectFsckClean(renamed);
    expect(mdirPaths(renamed)).toEqual(['OK.TXT', 'SUB/', 'SUB/a', 'SUB/a (2)', 'SUB/b', 'ok (2).txt', 'plain.txt'].sort());
    expect([mtype(renamed, '/OK.TXT'), mtype(renamed, '/ok (2).txt'), mtype(renamed, '/SUB/a (2)')]).toEqual(['f', 'c', 'lower a']);
    expect(r.stderr).toMatch(/warning: .*ok\.txt.*copied as '\/ok \(2\)\.txt'/);

    const skipped = makeImage(dir, 'fat16', 'skip.img');
    expect((await diskkit(['-q', 'cp', '-r', '--on-clash', 'skip', `${host}/.`, `${skipped}:/`])).exitCode).toBe(0);
    expect([mtype(skipped, '/OK.TXT'), mtype(skipped, '/SUB/a')]).toEqual(['f', 'upper a']);

    const over = makeImage(dir, 'fat16', 'over.img');
    expect((await diskkit(['-q', 'cp', '-r', '--on-clash', 'overwrite', `${host}/.`, `${over}:/`])).exitCode).toBe(0);
    expectFsckClean(over);
    expect([mtype(over, '/OK.TXT'), mtype(over, '/SUB/a')]).toEqual(['c', 'lower a']);
  });

  it.runIf(HAVE)('two file operands with one FAT name clash too', async () => {
    const dir = freshDir('operands-', work);
    const host = clashingTree(dir);
    const img = makeImage(dir, 'fat32');
    const r = await diskkit(['cp', join(host, 'OK.TXT'), join(host, 'ok.txt'), `${img}:/`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ignores case');
    expect(mtype(img, '/OK.TXT')).toBe('f');
  });

  it('an unknown --on-clash policy is a usage error', async () => {
    const r = await diskkit(['cp', '--on-clash', 'maybe', 'a', 'b.img:/']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^diskkit: .*--on-clash.*maybe/);
    expect(existsSync('b.img')).toBe(false);
  });
});

describe('copy-in: a case-sensitive format keeps both names', () => {
  // Cartridge names compare byte for byte (Volume.nameKey is the name itself), so the
  // clash rules above must not apply: every source lands under its own name.
  it.each([
    ['an empty cartridge', false],
    ['a cartridge that already holds a file', true],
  ])('cp -r into %s copies OK.TXT and ok.txt, sub/a and SUB/a, exit 0', async (_what, prefilled) => {
    const dir = freshDir('cart-', work);
    const host = clashingTree(dir);
    const cart = join(dir, 'c.cart');
    expect((await diskkit(['mkfs', cart, '--type', 'cartridge', '--compress', 'none'])).exitCode).toBe(0);
    if (prefilled) {
      writeFileSync(join(dir, 'x'), 'x');
      expect((await diskkit(['cp', join(dir, 'x'), `${cart}:/x`])).exitCode).toBe(0);
    }
    const r = await diskkit(['--json', 'cp', '-r', `${host}/.`, `${cart}:/`]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const listed = await diskkit(['ls', '-R', '--json', `${cart}:/`]);
    const listing = JSON.parse(listed.stdout);
    if (!Array.isArray(listing)) throw new Error(listed.stdout + listed.stderr);
    const paths = listing.map((e: { path: string }) => e.path).filter((p: string) => p !== '/x').sort();
    expect(paths).toEqual(['/OK.TXT', '/SUB', '/SUB/a', '/ok.txt', '/plain.txt', '/sub', '/sub/a', '/sub/b']);
    const cat = async (p: string) => (await diskkit(['cat', `${cart}:${p}`])).stdout;
    expect([await cat('/OK.TXT'), await cat('/ok.txt'), await cat('/SUB/a'), await cat('/sub/a')]).toEqual(['f', 'c', 'upper a', 'lower a']);
  });
});

/**
 * Write commands and what they must not do silently: rm goes on past a missing
 * operand (as rm(1)); symbolic links met while copying a tree in are skipped with a
 * warning unless -L (FAT has no links); a read-only (chmod 444) image is not written
 * without --force, even by root. Read back through mtools.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { expectFsckClean, freshDir, makeImage, mdirPaths } from './helpers/fat-write.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'mcopy', 'mdir');
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-guards-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('rm with missing operands', () => {
  it.runIf(HAVE)('reports each missing operand, removes the rest, exits 1', async () => {
    const dir = freshDir('rm-', work);
    const img = makeImage(dir, 'fat16');
    const host = join(dir, 'h');
    mkdirSync(host);
    for (const n of ['a.txt', 'b.txt', 'c.txt']) writeFileSync(join(host, n), n);
    expect((await diskkit(['cp', join(host, 'a.txt'), join(host, 'b.txt'), join(host, 'c.txt'), `${img}:/`])).exitCode).toBe(0);
    const r = await diskkit(['rm', `${img}:/missing`, `${img}:/a.txt`, `${img}:/gone`, `${img}:/c.txt`]);
    expect(r.exitCode).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^diskkit: .*\(path \/missing\)$/);
    expect(lines[1]).toMatch(/^diskkit: .*\(path \/gone\)$/);
    expect(mdirPaths(img)).toEqual(['b.txt']);
    expectFsckClean(img);
    const json = await diskkit(['--json', 'rm', `${img}:/nope`, `${img}:/b.txt`]);
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ removed: [{ path: '/b.txt' }], errors: [{ path: '/nope', code: 'E_NOT_FOUND' }] });
  });
});

describe('symbolic links on copy-in', () => {
  it.runIf(HAVE)('are skipped with a warning each (dangling ones too) unless -L, which copies what they point to', async () => {
    const dir = freshDir('links-', work);
    const host = join(dir, 'tree');
    mkdirSync(join(host, 'sub'), { recursive: true });
    writeFileSync(join(host, 'real.txt'), 'real');
    writeFileSync(join(host, 'sub', 'inner.txt'), 'inner');
    symlinkSync('real.txt', join(host, 'link.txt'));
    symlinkSync('sub', join(host, 'linkdir'));
    symlinkSync('nowhere', join(host, 'dangling'));
    const img = makeImage(dir, 'fat12');
    const r = await diskkit(['cp', '-r', `${host}/.`, `${img}:/`]);
    expect(r.exitCode).toBe(0);
    const warnings = r.stderr.trim().split('\n');
    expect(warnings).toHaveLength(3);
    for (const name of ['link.txt', 'linkdir', 'dangling']) expect(warnings.some((w) => w.includes('warning:') && w.includes(join(host, name)))).toBe(true);
    expect(mdirPaths(img)).toEqual(['real.txt', 'sub/', 'sub/inner.txt']);

    const followed = makeImage(dir, 'fat12', 'followed.img');
    const l = await diskkit(['cp', '-r', '-L', `${host}/.`, `${followed}:/`]);
    expect(l.exitCode).toBe(0);
    expect(l.stderr.trim().split('\n')).toHaveLength(1);
    expect(l.stderr).toMatch(/warning: .*dangling: symbolic link to nothing/);
    expect(mdirPaths(followed)).toEqual(['link.txt', 'linkdir/', 'linkdir/inner.txt', 'real.txt', 'sub/', 'sub/inner.txt']);
    expectFsckClean(followed);
  });
});

describe('a read-only image file', () => {
  it.runIf(HAVE)('is not written by cp, mkdir, rm, mv or fsck --repair without --force (even as root)', async () => {
    const dir = freshDir('ro-', work);
    const img = makeImage(dir, 'fat16');
    const file = join(dir, 'x.txt');
    writeFileSync(file, 'x');
    expect((await diskkit(['cp', file, `${img}:/`])).exitCode).toBe(0);
    chmodSync(img, 0o444);
    const before = readFileSync(img);
    const attempts = [
      ['cp', file, `${img}:/y.txt`],
      ['mkdir', `${img}:/d`],
      ['rm', `${img}:/x.txt`],
      ['mv', `${img}:/x.txt`, `${img}:/z.txt`],
    ];
    for (const args of attempts) {
      const r = await diskkit(args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(`diskkit: ${img}: is read-only (mode 0444)`);
    }
    const fsck = await diskkit(['fsck', '--repair', img]);
    expect(fsck.exitCode).toBe(8);
    expect(readFileSync(img).equals(before)).toBe(true);
    const forced = await diskkit(['cp', '--force', file, `${img}:/y.txt`]);
    expect(forced.exitCode).toBe(0);
    expect(mdirPaths(img)).toEqual(['x.txt', 'y.txt']);
    expect(statSync(img).mode & 0o777).toBe(0o444);
  });
});

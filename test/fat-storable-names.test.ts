/**
 * `cp` into FAT of source names FAT cannot store (host files and an NTFS volume made by
 * ntfs-3g, which takes POSIX names): each is stored under storableLongName's name with
 * one warning line and exit 0; a name with nothing left is refused per file (exit 1);
 * a stored name that meets another goes through --on-clash. The image is read back
 * through mtools (mdir names, mcopy bytes) and fsck.fat -n must be clean. Where mcopy
 * renames too (`-D a`, which also appends `-1`; plain mcopy skips such files silently
 * and exits 1), its characters are compared with ours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { expectFsckClean, makeImage, MENV, mdirPaths, mtoolsTree } from './helpers/fat-write.js';
import { storableLongName } from '../src/engine/fat/storable-name.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'mcopy', 'mdir');
const HAVE_NTFS = requireTools('mkntfs', 'ntfs-3g', 'fusermount');
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-storable-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Names FAT cannot store but can store changed, each file's bytes its own name. */
const RENAMED = ['trail.', 'sp ', 'a..x.', 'x. .', 'st*ar', 'q?m', 'co:lon', 'dq"x', 'lt<x', 'gt>x', 'pi|pe', 'bs\\x', 'ctl\u0001x', 'tab\tx'];
/** Names that need nothing. */
const KEPT = ['ok.txt', ' lead', '.hid'];

function hostTree(root: string, names: string[]): void {
  mkdirSync(root, { recursive: true });
  for (const name of names) writeFileSync(join(root, name), `bytes of ${name}\n`);
}

function escaped(s: string): string {
  return s.replace(/[\u0000-\u001f\\]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

describe.runIf(HAVE)('cp into FAT: source names FAT cannot store', () => {
  it.each(['fat12', 'fat32'] as const)('%s: each is stored as storableLongName says, one warning each, exit 0, fsck clean, mtools reads every byte', async (type) => {
    const src = join(work, `tree-${type}`);
    hostTree(join(src, 'sub?dir.'), ['in.'] as string[]);
    hostTree(src, [...RENAMED, ...KEPT]);
    const img = makeImage(work, type);
    const r = await diskkit(['cp', '-r', `${src}/.`, `${img}:/`]);
    expect(r.exitCode, r.stderr).toBe(0);
    const expected = new Map<string, string>();
    for (const name of [...RENAMED, ...KEPT]) expected.set(storableLongName(name)?.name ?? name, `bytes of ${name}\n`);
    expected.set('sub_dir/in', 'bytes of in.\n');
    // One line per renamed entry (the directory once; its contents follow it, and in. is renamed itself).
    const lines = r.stderr.trim().split('\n');
    const want = [...RENAMED.map((n) => [`${src}/${n}`, n] as const), [`${src}/sub?dir.`, 'sub?dir.'] as const, [`${src}/sub?dir./in.`, 'in.'] as const].map(
      ([path, name]) => `diskkit: ${img}: warning: ${escaped(`${path}: stored as ${JSON.stringify(storableLongName(name)!.name)} (${storableLongName(name)!.reason})`)}`,
    );
    expect(lines.sort()).toEqual(want.sort());
    expectFsckClean(img);
    expect(mdirPaths(img)).toEqual([...expected.keys(), 'sub_dir/'].sort());
    const back = mtoolsTree(img, join(work, `back-${type}`));
    for (const [path, bytes] of expected) expect(back.get(path)?.toString(), path).toBe(bytes);
  });

  it('replaces the characters mcopy -D a replaces, without its -1 (control characters left out: mcopy -D a loops on them)', async () => {
    const names = ['st*ar', 'q?m', 'co:lon', 'dq"x', 'lt<x', 'gt>x', 'pi|pe', 'bs\\x'];
    const src = join(work, 'vs-mcopy');
    hostTree(src, names);
    const ours = makeImage(work, 'fat12', 'ours.img');
    const theirs = makeImage(work, 'fat12', 'theirs.img');
    expect((await diskkit(['cp', ...names.map((n) => join(src, n)), `${ours}:/`])).exitCode).toBe(0);
    for (const n of names) execFileSync('mcopy', ['-D', 'a', '-i', theirs, '--', join(src, n), '::/'], { env: MENV, stdio: 'ignore', timeout: 10_000 });
    expect(mdirPaths(ours)).toEqual(mdirPaths(theirs).map((p) => p.replace(/-1$/, '')).sort());
    // And what plain mcopy does with them, without a terminal: nothing written, exit 1, no message.
    const plain = makeImage(work, 'fat12', 'plain.img');
    const m = spawnSync('mcopy', ['-i', plain, '--', join(src, 'q?m'), '::/'], { env: MENV, encoding: 'utf8', input: '', timeout: 10_000 });
    expect({ status: m.status, stderr: m.stderr, listed: mdirPaths(plain) }).toEqual({ status: 1, stderr: '', listed: [] });
  });

  it('stores trailing-dot and trailing-space names as plain mcopy does when the rest is an 8.3 name', async () => {
    const names = ['trail.', 'sp '];
    const src = join(work, 'vs-mcopy-dots');
    hostTree(src, names);
    const ours = makeImage(work, 'fat12', 'ours-dots.img');
    const theirs = makeImage(work, 'fat12', 'theirs-dots.img');
    expect((await diskkit(['cp', ...names.map((n) => join(src, n)), `${ours}:/`])).exitCode).toBe(0);
    for (const n of names) execFileSync('mcopy', ['-i', theirs, '--', join(src, n), '::/'], { env: MENV, stdio: 'ignore', timeout: 10_000 });
    expect(mdirPaths(ours)).toEqual(mdirPaths(theirs));
  });

  it('refuses per file a name with nothing storable left, copies the rest, exit 1', async () => {
    const src = join(work, 'empty-after');
    hostTree(src, ['...', ' ', 'fine.txt', 'q?m']);
    const img = makeImage(work, 'fat12', 'empty-after.img');
    const r = await diskkit(['cp', '-r', `${src}/.`, `${img}:/`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('name "..." has only dots and spaces');
    expect(r.stderr).toContain('name " " has only dots and spaces');
    expect(mdirPaths(img)).toEqual(['fine.txt', 'q_m']);
    expectFsckClean(img);
  });

  it('a.  and  a  meet as one name: --on-clash decides (fail by default, exit 1)', async () => {
    const src = join(work, 'clash');
    hostTree(src, ['a', 'a.']);
    const run = async (policy: string[]) => {
      const img = makeImage(work, 'fat12', `clash-${policy.join('') || 'default'}.img`);
      const r = await diskkit(['cp', ...policy, join(src, 'a'), join(src, 'a.'), `${img}:/`]);
      const back = mtoolsTree(img, join(work, `clash-back-${policy.join('') || 'default'}`));
      expectFsckClean(img);
      return { exitCode: r.exitCode, stderr: r.stderr, back: Object.fromEntries([...back].map(([k, v]) => [k, v?.toString()])) };
    };
    const byDefault = await run([]);
    expect(byDefault.exitCode).toBe(1);
    expect(byDefault.stderr).toContain(`'${src}/a.' not copied: it would be stored as '/a', where '${src}/a' already goes`);
    expect(byDefault.back).toEqual({ a: 'bytes of a\n' });
    const renamed = await run(['--on-clash', 'rename']);
    expect(renamed.exitCode, renamed.stderr).toBe(0);
    expect(renamed.back).toEqual({ a: 'bytes of a\n', 'a (2)': 'bytes of a.\n' });
    expect(renamed.stderr).toContain(`${src}/a.: stored as "a (2)" (FAT cannot store a name ending in a dot or a space)`);
    const over = await run(['--on-clash', 'overwrite']);
    expect(over.exitCode).toBe(0);
    expect(over.back).toEqual({ a: 'bytes of a.\n' });
  });

  it('a stored name that the image already holds is a clash, not a silent replacement', async () => {
    const src = join(work, 'in-image');
    hostTree(src, ['a', 'a.']);
    const img = makeImage(work, 'fat12', 'in-image.img');
    expect((await diskkit(['cp', join(src, 'a'), `${img}:/`])).exitCode).toBe(0);
    const r = await diskkit(['cp', join(src, 'a.'), `${img}:/`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`'${src}/a.' not copied: it would be stored as '/a', which the image already holds`);
    expect(mtoolsTree(img, join(work, 'in-image-1')).get('a')?.toString()).toBe('bytes of a\n');
    const again = await diskkit(['cp', '--on-clash', 'rename', join(src, 'a.'), `${img}:/`]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(Object.fromEntries([...mtoolsTree(img, join(work, 'in-image-2'))].map(([k, v]) => [k, v?.toString()]))).toEqual({ a: 'bytes of a\n', 'a (2)': 'bytes of a.\n' });
    // Copying a file over itself by its own (storable) name is still cp(1)'s replace.
    expect((await diskkit(['cp', join(src, 'a'), `${img}:/`])).exitCode).toBe(0);
    expectFsckClean(img);
  });

  it('mkfs --from stores them the same way and says so, exit 0', async () => {
    const src = join(work, 'mkfs-from');
    hostTree(src, ['q?m', 'fine']);
    const img = join(work, 'from.img');
    const r = await diskkit(['mkfs', img, '--size', '2M', '--from', src]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`diskkit: ${img}: warning: ${src}/q?m: stored as "q_m" (FAT cannot store '?')`);
    expect(mdirPaths(img)).toEqual(['fine', 'q_m']);
    expectFsckClean(img);
  });

  it('names the user typed are refused, not changed: cp DEST, mkdir, mv', async () => {
    const src = join(work, 'typed');
    hostTree(src, ['f']);
    const img = makeImage(work, 'fat12', 'typed.img');
    for (const args of [['cp', join(src, 'f'), `${img}:/g?`], ['cp', join(src, 'f'), `${img}:/g.`], ['mkdir', `${img}:/d.`], ['mkdir', `${img}:/d:e`]]) {
      const r = await diskkit(args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/contains a character FAT does not allow|ends with a dot or a space, which FAT cannot store/);
    }
    expect((await diskkit(['cp', join(src, 'f'), `${img}:/f`])).exitCode).toBe(0);
    const mv = await diskkit(['mv', `${img}:/f`, `${img}:/f.`]);
    expect(mv.exitCode).toBe(1);
    expect(mv.stderr).toContain('ends with a dot or a space, which FAT cannot store');
    expect(mdirPaths(img)).toEqual(['f']);
    expectFsckClean(img);
  });
});

describe.runIf(HAVE && HAVE_NTFS)('cp from NTFS into FAT: POSIX names FAT cannot store', () => {
  let ntfs = '';
  beforeAll(() => {
    ntfs = join(work, 'names.ntfs');
    execFileSync('truncate', ['-s', '8M', ntfs]);
    execFileSync('mkntfs', ['-F', '-q', '-c', '4096', ntfs], { stdio: 'ignore' });
    const mnt = join(work, 'mnt');
    mkdirSync(mnt);
    execFileSync('ntfs-3g', [ntfs, mnt]);
    try {
      hostTree(join(mnt, 'dir?'), ['x.']);
      hostTree(mnt, ['q?m', 'trail.', 'co:lon', 'plain.txt']);
    } finally {
      execFileSync('fusermount', ['-u', mnt]);
    }
  }, 120_000);

  it('stores them as from the host, one warning each, exit 0, fsck clean, bytes read back by mtools', async () => {
    const img = makeImage(work, 'fat16');
    const r = await diskkit(['cp', '-r', `${ntfs}:/dir?`, `${ntfs}:/q?m`, `${ntfs}:/trail.`, `${ntfs}:/co:lon`, `${ntfs}:/plain.txt`, `${img}:/`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr.trim().split('\n').sort()).toEqual(
      [
        ['/dir?', 'dir_', "'?'"],
        ['/dir?/x.', 'x', 'a name ending in a dot or a space'],
        ['/q?m', 'q_m', "'?'"],
        ['/trail.', 'trail', 'a name ending in a dot or a space'],
        ['/co:lon', 'co_lon', "':'"],
      ]
        .map(([from, to, what]) => `diskkit: ${img}: warning: ${from}: stored as "${to}" (FAT cannot store ${what})`)
        .sort(),
    );
    expectFsckClean(img);
    const back = Object.fromEntries([...mtoolsTree(img, join(work, 'ntfs-back'))].map(([k, v]) => [k, v?.toString() ?? null]));
    expect(back).toEqual({
      'dir_/': null,
      'dir_/x': 'bytes of x.\n',
      q_m: 'bytes of q?m\n',
      trail: 'bytes of trail.\n',
      co_lon: 'bytes of co:lon\n',
      'plain.txt': 'bytes of plain.txt\n',
    });
  });
});

describe.runIf(HAVE)('cp from a Cartridge image into FAT', () => {
  it('stores the names as from the host; a. meets a under --on-clash (rename here), exit 0, fsck clean', async () => {
    const src = join(work, 'cart-src');
    hostTree(src, ['a', 'a.', 'q?m', 'x. .']);
    const cart = join(work, 'names.cart');
    expect((await diskkit(['mkfs', cart, '--type', 'cartridge'])).exitCode).toBe(0);
    // A Cartridge keeps every one of these names as it is.
    expect((await diskkit(['cp', '-r', `${src}/.`, `${cart}:/`])).exitCode).toBe(0);
    const img = makeImage(work, 'fat16', 'from-cart.img');
    const r = await diskkit(['cp', '-r', '--on-clash', 'rename', `${cart}:/`, `${img}:/`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: /q?m: stored as "q_m" (FAT cannot store '?')`);
    expect(r.stderr).toContain(`warning: /x. .: stored as "x" (FAT cannot store a name ending in a dot or a space)`);
    expectFsckClean(img);
    const back = Object.fromEntries([...mtoolsTree(img, join(work, 'cart-back'))].map(([k, v]) => [k, v?.toString()]));
    expect(back).toEqual({ a: 'bytes of a\n', 'a (2)': 'bytes of a.\n', q_m: 'bytes of q?m\n', x: 'bytes of x. .\n' });
  });
});

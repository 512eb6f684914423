/**
 * Copying out names that differ only in case (NTFS POSIX names made through ntfs-3g, a
 * Cartridge image filled from a Linux tree): on a case-sensitive host directory both are
 * written as they are, as tsk_recover and cp write them; in a directory that compares
 * names case-insensitively (a lowntfs-3g mount with ignore_case, as a vfat stick or a
 * casefold directory would) the second gets a ~N name and a warning instead of
 * overwriting the first. A tree copy of an NTFS volume leaves the metafiles out, as
 * tsk_recover does; naming one copies it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostFoldsCase } from '../src/io/host-name-case.js';
import { requireRoot, requireTools } from './helpers/oracle.js';
import { diskkit } from './helpers/cli.js';

const tools = requireTools('mkntfs', 'ntfs-3g', 'lowntfs-3g', 'fusermount', 'tsk_recover', 'icat') && requireRoot('mounting NTFS images through FUSE');
const work = mkdtempSync(join(tmpdir(), 'diskkit-host-case-'));
const mounts: string[] = [];

/** A fresh NTFS image of `mib` MiB, mounted at the returned directory (lowntfs-3g with `options`). */
function mountNtfs(name: string, options: string[] = []): { image: string; dir: string } {
  const image = join(work, `${name}.ntfs`);
  const dir = join(work, `${name}-mnt`);
  execFileSync('truncate', ['-s', '16M', image]);
  execFileSync('mkntfs', ['-q', '-F', '-f', image], { stdio: 'ignore' });
  mkdirSync(dir);
  execFileSync(options.length > 0 ? 'lowntfs-3g' : 'ntfs-3g', [...(options.length > 0 ? ['-o', options.join(',')] : []), image, dir]);
  mounts.push(dir);
  return { image, dir };
}

function unmount(dir: string): void {
  execFileSync('fusermount', ['-u', dir]);
  mounts.splice(mounts.indexOf(dir), 1);
}

/** Every file under `dir` as relative path → bytes (directories as path/ → null). */
function hostTree(dir: string, rel = ''): Map<string, Buffer | null> {
  const out = new Map<string, Buffer | null>();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      out.set(`${rel}${name}/`, null);
      for (const [k, v] of hostTree(path, `${rel}${name}/`)) out.set(k, v);
    } else out.set(rel + name, readFileSync(path));
  }
  return out;
}

const FILES: Record<string, string> = { 'Case.txt': 'upper\n', 'case.txt': 'lower\n', 'sub/Makefile': 'one\n', 'sub/makefile': 'two\n', 'plain.txt': 'plain\n' };
let ntfsImage = '';
let foldingDir = '';

beforeAll(() => {
  if (!tools) return;
  const source = mountNtfs('source');
  mkdirSync(join(source.dir, 'sub'));
  for (const [path, text] of Object.entries(FILES)) writeFileSync(join(source.dir, path), text);
  unmount(source.dir);
  ntfsImage = source.image;
  foldingDir = mountNtfs('folding', ['ignore_case']).dir;
}, 60_000);

afterAll(() => {
  for (const dir of [...mounts]) unmount(dir);
  rmSync(work, { recursive: true, force: true });
});

describe.runIf(tools)('host case sensitivity and NTFS metafiles in cp -r out', () => {
  it('hostFoldsCase: false in a tmp directory, true in an ignore_case mount and below it, and the probe leaves nothing', () => {
    const plain = mkdtempSync(join(work, 'plain-'));
    expect(hostFoldsCase(plain)).toBe(false);
    expect(hostFoldsCase(join(plain, 'not', 'yet'))).toBe(false);
    expect(hostFoldsCase(foldingDir)).toBe(true);
    expect(hostFoldsCase(join(foldingDir, 'not', 'yet'))).toBe(true);
    expect(readdirSync(plain)).toEqual([]);
    expect(readdirSync(foldingDir)).toEqual([]);
  });

  it('into a case-sensitive directory: every name as stored, no warning, no metafile, the tree tsk_recover -a writes', async () => {
    const out = join(work, 'sensitive');
    const r = await diskkit(['cp', '-r', `${ntfsImage}:/`, out]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    const theirs = join(work, 'recovered');
    execFileSync('tsk_recover', ['-a', ntfsImage, theirs], { stdio: 'ignore' });
    const got = hostTree(out);
    expect(got).toEqual(hostTree(theirs));
    for (const [path, text] of Object.entries(FILES)) expect(got.get(path)?.toString(), path).toBe(text);
    expect([...got.keys()].filter((p) => p.startsWith('$'))).toEqual([]);
  });

  it('into a directory that folds case: the second of each pair renamed ~1 with a warning, both files kept', async () => {
    const out = join(foldingDir, 'copy');
    const r = await diskkit(['cp', '-r', `${ntfsImage}:/`, out]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    // Whichever of a pair the directory lists second is the one renamed.
    expect(String(r.stderr).split('\n').filter(Boolean).sort()).toEqual([
      expect.stringMatching(/\/[Cc]ase\.txt: name collides .*case-insensitively.*written as '[Cc]ase~1\.txt'/),
      expect.stringMatching(/\/sub\/[Mm]akefile: name collides .*case-insensitively.*written as '[Mm]akefile~1'/),
    ]);
    const got = hostTree(out);
    const lower = new Map([...got].map(([k, v]) => [k.toLowerCase(), v?.toString() ?? null]));
    expect([...lower.keys()].sort()).toEqual(['case.txt', 'case~1.txt', 'plain.txt', 'sub/', 'sub/makefile', 'sub/makefile~1']);
    expect([lower.get('case.txt'), lower.get('case~1.txt')].sort()).toEqual(['lower\n', 'upper\n']);
    expect([lower.get('sub/makefile'), lower.get('sub/makefile~1')].sort()).toEqual(['one\n', 'two\n']);
    expect(lower.get('plain.txt')).toBe('plain\n');
  });

  it('a Cartridge image filled from a Linux tree with Makefile and makefile gives both back into a case-sensitive directory', async () => {
    const tree = mkdtempSync(join(work, 'tree-'));
    writeFileSync(join(tree, 'Makefile'), 'one\n');
    writeFileSync(join(tree, 'makefile'), 'two\n');
    const cart = join(work, 'pair.cart');
    expect((await diskkit(['mkfs', cart, '--type', 'cartridge', '--from', tree, '-q'])).exitCode).toBe(0);
    const out = join(work, 'pair-out');
    const r = await diskkit(['cp', '-r', `${cart}:/`, out]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(hostTree(out)).toEqual(hostTree(tree));
  });

  it('a metafile named on the command line is copied: $UpCase is 128 KiB, two bytes per UTF-16 unit', async () => {
    const out = join(work, 'upcase.bin');
    const r = await diskkit(['cp', `${ntfsImage}:/$UpCase`, out]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(readFileSync(out).equals(execFileSync('icat', [ntfsImage, '10'], { maxBuffer: 1 << 20 }))).toBe(true);
  });
});

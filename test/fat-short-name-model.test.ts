/**
 * Short names for thousands of colliding long names, against a model of fatgen103
 * section 7 written here from the specification: the basis name (upper case, spaces and
 * leading dots dropped, other dots dropped from the base, cut to 8.3), then the lowest
 * numeric tail ~N that no entry of the directory holds yet, the base cut to make room
 * for it. The names are written by `cp -r` (two runs into one directory, so that the
 * second finds the first's names on disk) and read back through mdir, which lists each
 * entry's short and long name; mcopy reads the bytes back and fsck.fat must be clean.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { expectFsckClean, freshDir, makeImage, MENV, mtoolsTree, readHostTree } from './helpers/fat-write.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'mcopy', 'mdir');
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-sn-model-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The model's basis name for the ASCII names used here: [base, ext, lossy]. */
function modelBasis(name: string): [string, string, boolean] {
  const upper = name.toUpperCase();
  const trimmed = upper.replace(/^[. ]+/, '');
  const dot = trimmed.lastIndexOf('.');
  const rawBase = dot === -1 ? trimmed : trimmed.slice(0, dot);
  const rawExt = dot === -1 ? '' : trimmed.slice(dot + 1);
  const base = rawBase.replace(/[ .]/g, '');
  const ext = rawExt.replace(/[ .]/g, '');
  const lossy = trimmed !== upper || base !== rawBase || ext !== rawExt || base.length > 8 || ext.length > 3;
  return [base.slice(0, 8), ext.slice(0, 3), lossy];
}

/** Whether `name` is itself an upper-case 8.3 name (stored as it is, no long name). */
function isPlainShortName(name: string): boolean {
  return /^[A-Z0-9~_-]{1,8}(\.[A-Z0-9~_-]{1,3})?$/.test(name);
}

/** Adds the short name the model gives each name (in the order written) to `shorts`, given the names taken before. */
function modelShortNames(names: string[], taken: Set<string>, shorts: Map<string, string>): void {
  for (const name of names) {
    if (isPlainShortName(name)) {
      taken.add(name);
      shorts.set(name, name);
      continue;
    }
    const [base, ext, lossy] = modelBasis(name);
    const plain = ext ? `${base}.${ext}` : base;
    let short = plain;
    if (lossy || taken.has(plain)) {
      for (let n = 1; ; n++) {
        const tail = `~${n}`;
        const candidate = base.slice(0, 8 - tail.length) + tail;
        short = ext ? `${candidate}.${ext}` : candidate;
        if (!taken.has(short)) break;
      }
    }
    taken.add(short);
    shorts.set(name, short);
  }
}

/** mdir's listing of one directory: long name (or the short name when there is none) -> short name. */
function mdirShortNames(img: string, dir: string): Map<string, string> {
  const out = execFileSync('mdir', ['-i', img, `::${dir}`], { env: MENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const names = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^(.{8}) (.{3}) +(\d+|<DIR>) +\d{4}-\d{2}-\d{2} +\d{1,2}:\d{2} ?(?: (.+))?$/.exec(line);
    if (!m || m[1]!.startsWith('.')) continue;
    const base = m[1]!.trimEnd();
    const ext = m[2]!.trimEnd();
    const short = ext ? `${base}.${ext}` : base;
    names.set(m[4] ?? short, short);
  }
  return names;
}

/** Writes `names` (each file holding its own name) into a fresh host directory. */
function hostDirectory(dir: string, label: string, names: string[]): string {
  const host = join(dir, label);
  mkdirSync(join(host, 'many'), { recursive: true });
  for (const name of names) writeFileSync(join(host, 'many', name), name);
  return host;
}

describe('short names for thousands of colliding long names', () => {
  it.runIf(HAVE)('cp -r gives each the lowest free ~N tail of its basis, as the model and mdir say, across two runs', async () => {
    const dir = freshDir('model-', work);
    const pad = (n: number) => String(n).padStart(4, '0');
    // Three spellings of one basis (COLLIDIN.TXT) interleaved in sorted order, one basis
    // without an extension, and plain 8.3 names that take tails before the generator reaches them.
    const first = [
      ...Array.from({ length: 1200 }, (_, i) => `colliding long name ${pad(i)}.txt`),
      ...Array.from({ length: 300 }, (_, i) => `colliding.long.${pad(i)}.txt`),
      ...Array.from({ length: 700 }, (_, i) => `a very long name without extension ${pad(i)}`),
      'COLLID~3.TXT',
      'COLL~120.TXT',
      'AVERY~10',
    ];
    const second = [
      ...Array.from({ length: 600 }, (_, i) => `colliding long name, second run ${pad(i)}.txt`),
      ...Array.from({ length: 50 }, (_, i) => `a very long name, second run ${pad(i)}`),
    ];
    const img = makeImage(dir, 'fat32');
    const shorts = new Map<string, string>();
    const taken = new Set<string>();
    // cp -r writes a directory's names in sorted order (JavaScript's string order).
    modelShortNames([...first].sort(), taken, shorts);
    modelShortNames([...second].sort(), taken, shorts);

    const one = hostDirectory(dir, 'one', first);
    expect((await diskkit(['cp', '-r', `${one}/.`, `${img}:/`])).exitCode).toBe(0);
    const two = hostDirectory(dir, 'two', second);
    expect((await diskkit(['cp', '-r', `${two}/.`, `${img}:/`])).exitCode).toBe(0);

    expectFsckClean(img);
    const listed = mdirShortNames(img, '/many');
    expect(listed.size).toBe(first.length + second.length);
    expect(new Map([...listed].sort())).toEqual(new Map([...shorts].sort()));
    // Tails went past two, three and four digits, each base cut to fit.
    for (const short of ['COLLID~1.TXT', 'COLLI~99.TXT', 'COLL~100.TXT', 'COL~1000.TXT', 'AVERYL~1', 'AVERY~99', 'AVER~100']) expect([...listed.values()]).toContain(short);
    // Names and bytes read back through mtools.
    const expected = new Map([...readHostTree(one), ...readHostTree(two)]);
    expect(mtoolsTree(img, freshDir('out-', dir))).toEqual(expected);
  });
});

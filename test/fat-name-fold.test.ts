/**
 * Names that differ only where a full Unicode upper-case mapping would join them
 * ('ß' and 'SS') are different names on FAT: Windows' upcase table and
 * mtools fold one character to one. Images are filled by mtools; diskkit must find
 * each entry under its own name, as mdir and mtype do, and a copy in must not take
 * one name for the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskkit, diskkitBytes } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { expectFsckClean, makeImage, type FatKind } from './helpers/fat-write.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'mmd', 'mcopy', 'mdir', 'mtype');
const MENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null', LC_ALL: 'C.UTF-8' };
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-fold-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function mtools(tool: string, args: string[]): Buffer {
  return execFileSync(tool, args, { env: MENV });
}

/** The names mdir lists in `dir` (long name when there is one, else the 8.3 name as mdir prints it). */
function mdirNames(img: string, dir: string): string[] {
  const out = spawnSync('mdir', ['-i', img, '-b', `::${dir}`], { env: MENV, encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => l.startsWith('::/')).map((l) => l.slice(l.lastIndexOf('/') + 1)).filter((n) => n !== '').sort();
}

describe.each(['fat12', 'fat16', 'fat32'] as FatKind[])('%s: names one character folds to several', (type) => {
  it.runIf(HAVE)('directories ß and SS, Straße and STRASSE are told apart by lookups, as mtools tells them apart', async () => {
    const img = makeImage(mkdtempSync(join(work, type)), type);
    const host = mkdtempSync(join(work, 'host-'));
    const pairs = [['ß', 'SS'], ['Straße', 'STRASSE']];
    for (const [a, b] of pairs) mtools('mmd', ['-i', img, `::/${a}`, `::/${b}`]);
    for (const [a, b] of pairs) {
      for (const dir of [a!, b!]) {
        const file = join(host, `in-${dir}`);
        writeFileSync(file, `inside ${dir}\n`);
        mtools('mcopy', ['-i', img, file, `::/${dir}/`]);
      }
    }
    for (const [a, b] of pairs) {
      for (const dir of [a!, b!]) {
        const ls = await diskkit(['ls', `${img}:/${dir}`]);
        expect(ls.exitCode).toBe(0);
        expect(ls.stdout.split('\n').filter((l) => l !== '').sort()).toEqual(mdirNames(img, `/${dir}`));
        const cat = await diskkitBytes(['cat', `${img}:/${dir}/in-${dir}`]);
        expect(cat.exitCode).toBe(0);
        expect(Buffer.from(cat.stdout).equals(mtools('mtype', ['-i', img, `::/${dir}/in-${dir}`]))).toBe(true);
      }
    }
  });

  it.runIf(HAVE)('cp of SS.TXT next to ß.txt makes a second file; ß.txt gets a short name no lookup of SS.TXT finds', async () => {
    const img = makeImage(mkdtempSync(join(work, type)), type);
    const host = mkdtempSync(join(work, 'host-'));
    writeFileSync(join(host, 'ß.txt'), 'eszett\n');
    writeFileSync(join(host, 'SS.TXT'), 'upper s s\n');
    for (const name of ['ß.txt', 'SS.TXT']) {
      const r = await diskkit(['cp', join(host, name), `${img}:/`]);
      expect({ code: r.exitCode, err: r.stderr }).toEqual({ code: 0, err: '' });
    }
    expectFsckClean(img);
    expect(mdirNames(img, '/')).toEqual(['SS.TXT', 'ß.txt']);
    expect(mtools('mtype', ['-i', img, '::/SS.TXT']).toString()).toBe('upper s s\n');
    expect(mtools('mtype', ['-i', img, '::/ß.txt']).toString()).toBe('eszett\n');
  });
});

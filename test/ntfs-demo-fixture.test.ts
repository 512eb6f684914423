/**
 * The shipped NTFS volume `npm start` lists (fixtures/ntfs/demo.ntfs.gz, made by
 * `fixtures/make-ntfs-fixtures.sh DIR demo` with mkntfs + ntfs-3g) read through the
 * CLI, with The Sleuth Kit as the oracle: the recursive listing (deleted entries and
 * streams included) equals `fls -r -p`, every file and stream's bytes equal `icat`,
 * every entry's times in `ls --format jsonl` equal `istat`'s $STANDARD_INFORMATION
 * times, and a folder copied out equals what `tsk_recover -a` writes for it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { requireTools } from './helpers/oracle.js';
import { diskkit, diskkitBytes } from './helpers/cli.js';

const tools = requireTools('fls', 'icat', 'istat', 'tsk_recover');
const dir = mkdtempSync(join(tmpdir(), 'diskkit-demo-ntfs-'));
const image = join(dir, 'demo.ntfs');

interface Row { path: string; kind: 'file' | 'dir'; deleted: boolean; address: string }

function flsRows(): Row[] {
  const out = execFileSync('fls', ['-r', '-p', image], { encoding: 'utf8' });
  const rows: Row[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\S)\/(\S) (\* )?(\S+):\t(.*)$/.exec(line);
    if (!m || m[1] === 'V' || m[5]!.startsWith('$') || m[5]!.includes('/$')) continue;
    rows.push({ path: '/' + m[5]!, kind: m[2] === 'd' ? 'dir' : 'file', deleted: m[3] !== undefined, address: m[4]! });
  }
  return rows;
}

function walk(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const visit = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) visit(p);
      else files.set('/' + relative(root, p), readFileSync(p));
    }
  };
  visit(root);
  return files;
}

describe.runIf(tools)('shipped NTFS demo volume vs The Sleuth Kit', () => {
  beforeAll(() => {
    writeFileSync(image, gunzipSync(readFileSync(fileURLToPath(new URL('../fixtures/ntfs/demo.ntfs.gz', import.meta.url)))));
  });

  it('ls -R --deleted --streams lists what fls -r -p lists', async () => {
    const r = await diskkit(['--json', 'ls', '-R', '-a', '--deleted', '--streams', image]);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { entries?: unknown[] } | unknown[];
    const entries = (Array.isArray(doc) ? doc : (doc.entries ?? [])) as { path: string; isDir?: boolean; type?: string; deleted?: boolean }[];
    const ours = entries
      .filter((e) => !e.path.split('/').some((part) => part.startsWith('$')))
      .map((e) => `${e.deleted ? '* ' : ''}${e.path}${e.isDir || e.type === 'dir' ? '/' : ''}`)
      .sort();
    const theirs = flsRows().map((f) => `${f.deleted ? '* ' : ''}${f.path}${f.kind === 'dir' ? '/' : ''}`).sort();
    expect(ours).toEqual(theirs);
    expect(theirs.length).toBeGreaterThan(10);
  });

  it('ls --format jsonl gives each entry the created, modified and accessed times istat prints', async () => {
    const r = await diskkit(['ls', '-R', image, '--format', 'jsonl']);
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; mtime: string; ctime: string; atime: string });
    const address = new Map(flsRows().filter((f) => !f.deleted && !f.path.includes(':')).map((f) => [f.path, f.address.split('-')[0]!]));
    expect(rows.length).toBe(address.size);
    for (const row of rows) {
      const text = execFileSync('istat', ['-z', 'UTC', image, address.get(row.path)!], { encoding: 'utf8' });
      const si = text.slice(text.indexOf('$STANDARD_INFORMATION'));
      // istat prints 100 ns digits; the listing keeps milliseconds (truncated).
      const at = (label: string) => {
        const m = new RegExp(`^${label}:\\t(\\S+) (\\d\\d:\\d\\d:\\d\\d\\.\\d{3})\\d* \\(UTC\\)`, 'm').exec(si)!;
        return `${m[1]}T${m[2]}Z`;
      };
      expect({ path: row.path, ctime: row.ctime, mtime: row.mtime, atime: row.atime }).toEqual({ path: row.path, ctime: at('Created'), mtime: at('File Modified'), atime: at('Accessed') });
    }
  });

  it('cat of every allocated file and stream equals icat', async () => {
    const rows = flsRows().filter((f) => f.kind === 'file' && !f.deleted);
    expect(rows.some((f) => f.path.includes(':'))).toBe(true);
    for (const row of rows) {
      const r = await diskkitBytes(['cat', `${image}:${row.path}`]);
      expect(r.exitCode, `${row.path}: ${r.stderr}`).toBe(0);
      expect(Buffer.compare(Buffer.from(r.stdout), execFileSync('icat', [image, row.address], { maxBuffer: 1 << 26 })), row.path).toBe(0);
    }
  });

  it('cp -r of a folder equals tsk_recover -a of the volume, under that folder', async () => {
    const ours = join(dir, 'ours');
    const r = await diskkit(['cp', '-r', `${image}:/Users/alice`, ours]);
    expect(r.exitCode, r.stderr).toBe(0);
    const theirs = join(dir, 'theirs');
    execFileSync('tsk_recover', ['-a', image, theirs]);
    const expected = walk(join(theirs, 'Users/alice'));
    const got = walk(ours);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, bytes] of expected) expect(Buffer.compare(got.get(path)!, bytes), path).toBe(0);
  });

  it.each(['cartridge', 'fat32'])('cp -r of the whole volume into a %s image holds what tsk_recover -a writes (no metafiles)', async (type) => {
    const into = join(dir, `whole-${type}.img`);
    const made = await diskkit(type === 'cartridge' ? ['mkfs', into, '--type', 'cartridge'] : ['mkfs', into, '--size', '64M', '--type', type]);
    expect(made.exitCode, made.stderr).toBe(0);
    const r = await diskkit(['cp', '-r', `${image}:/`, `${into}:/`]);
    expect(r.exitCode, r.stderr).toBe(0);
    const back = join(dir, `whole-${type}-out`);
    const out = await diskkit(['cp', '-r', `${into}:/`, back]);
    expect(out.exitCode, out.stderr).toBe(0);
    const theirs = join(dir, 'theirs-whole');
    execFileSync('tsk_recover', ['-a', image, theirs]);
    const expected = walk(theirs);
    const got = walk(back);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, bytes] of expected) expect(Buffer.compare(got.get(path)!, bytes), path).toBe(0);
  });
});

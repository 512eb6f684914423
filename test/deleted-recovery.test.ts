/**
 * Reading entries marked deleted (`cat --deleted`, `cp -r --deleted`), with The Sleuth
 * Kit as the oracle: a deleted file's bytes equal `icat IMG INODE`, and a tree copied
 * out with its deleted files equals what `tsk_recover -e` writes. FAT images are made
 * by mkfs.fat and mtools (mcopy, then mdel frees the chain), the NTFS one is the shipped
 * demo volume (mkntfs + ntfs-3g, a file deleted through the mount). A deleted FAT file
 * whose clusters are in use again is refused (icat returns what those clusters hold now).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { requireTools } from './helpers/oracle.js';
import { diskkit, diskkitBytes } from './helpers/cli.js';

const HAVE = requireTools('mkfs.fat', 'mcopy', 'mdel', 'fls', 'icat', 'tsk_recover');
const MENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-deleted-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** fls -d -r -p: the deleted files, as [path, inode]. */
function deletedByFls(image: string): [string, string][] {
  const out = execFileSync('fls', ['-d', '-r', '-p', image], { encoding: 'utf8' });
  const rows: [string, string][] = [];
  for (const line of out.split('\n')) {
    const m = /^[r-]\/r \* (\S+):\t(.*)$/.exec(line);
    if (m && !m[2]!.includes('$')) rows.push([m[2]!, m[1]!]);
  }
  return rows;
}

/** Every file under `root`, by path relative to it (each name's '?' as '_', tsk_recover's spelling of a lost first character). */
function files(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) visit(p);
      else out.set(relative(root, p).replace(/\?/g, '_'), readFileSync(p).toString('base64'));
    }
  };
  visit(root);
  return out;
}

const bytes = (seed: number, length: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed * 7 + (i >> 9)) & 255));

describe.runIf(HAVE)('deleted files on FAT', () => {
  it.each([['12', '2048'], ['16', '40960'], ['32', '270000']])('FAT%s: cat --deleted equals icat, cp -r --deleted equals tsk_recover -e', async (fat, kib) => {
    const image = join(dir, `fat${fat}.img`);
    execFileSync('mkfs.fat', ['-C', '-F', fat, image, kib], { stdio: 'ignore' });
    const host = join(dir, `src${fat}`);
    execFileSync('mkdir', ['-p', join(host, 'docs')]);
    writeFileSync(join(host, 'keep.bin'), bytes(1, 70_000));
    writeFileSync(join(host, 'gone.bin'), bytes(2, 50_000));
    writeFileSync(join(host, 'docs', 'Long Name Gone.txt'), 'deleted with its long name\n'.repeat(300));
    writeFileSync(join(host, 'docs', 'stay.txt'), 'stays\n');
    execFileSync('mcopy', ['-s', '-i', image, join(host, 'keep.bin'), join(host, 'gone.bin'), join(host, 'docs'), '::'], { env: MENV });
    execFileSync('mdel', ['-i', image, '::/gone.bin', '::/docs/Long Name Gone.txt'], { env: MENV });

    const deleted = deletedByFls(image);
    expect(deleted.length).toBe(2);
    const listed = JSON.parse((await diskkit(['--json', 'ls', '-R', '--deleted', image])).stdout) as { path: string; deleted?: boolean; type: string }[];
    const ours = listed.filter((e) => e.deleted && e.type === 'file').map((e) => e.path);
    expect(ours.map((p) => p.replace(/\?/g, '_').slice(1)).sort()).toEqual(deleted.map(([p]) => p).sort());
    for (const path of ours) {
      const [, inode] = deleted.find(([p]) => p === path.replace(/\?/g, '_').slice(1))!;
      const r = await diskkitBytes(['cat', '--deleted', `${image}:${path}`]);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(Buffer.from(r.stdout as Uint8Array).equals(execFileSync('icat', [image, inode], { maxBuffer: 1 << 24 })), path).toBe(true);
    }
    // Without --deleted the name is not there.
    expect((await diskkit(['cat', `${image}:${ours[0]}`])).exitCode).toBe(1);

    const out = join(dir, `out${fat}`);
    const theirs = join(dir, `tsk${fat}`);
    const r = await diskkit(['cp', '-r', '--deleted', `${image}:/`, out]);
    expect(r.exitCode, r.stderr).toBe(0);
    execFileSync('tsk_recover', ['-e', image, theirs], { stdio: 'ignore' });
    expect(files(out)).toEqual(files(theirs));
  });

  it('refuses a deleted file whose clusters are in use again, which icat cannot give back either', async () => {
    const image = join(dir, 'reused.img');
    execFileSync('mkfs.fat', ['-C', image, '2048'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'first.bin'), bytes(3, 20_000));
    writeFileSync(join(dir, 'second.bin'), bytes(4, 20_000));
    // The second file goes into a subdirectory made before the deletion: it takes the freed clusters, not the freed root slot.
    execFileSync('mcopy', ['-i', image, join(dir, 'first.bin'), '::'], { env: MENV });
    execFileSync('mmd', ['-i', image, '::/sub'], { env: MENV });
    execFileSync('mdel', ['-i', image, '::/first.bin'], { env: MENV });
    execFileSync('mcopy', ['-i', image, join(dir, 'second.bin'), '::/sub/'], { env: MENV });
    const [[path, inode]] = deletedByFls(image) as [[string, string]];
    // The Sleuth Kit cannot give the first file back either: what icat returns is not its bytes.
    expect(execFileSync('icat', [image, inode]).equals(readFileSync(join(dir, 'first.bin')))).toBe(false);
    const r = await diskkit(['--json', 'cat', '--deleted', `${image}:/${path.replace(/^_/, '?')}`]);
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout).error.message).toMatch(/in use again .*not recoverable/);
  });
});

describe.runIf(HAVE)('deleted files on NTFS (the shipped demo volume)', () => {
  it('cat --deleted equals icat, and cp -r --deleted equals tsk_recover -e', async () => {
    const image = join(dir, 'demo.ntfs');
    writeFileSync(image, gunzipSync(readFileSync(fileURLToPath(new URL('../fixtures/ntfs/demo.ntfs.gz', import.meta.url)))));
    const deleted = deletedByFls(image);
    expect(deleted.length).toBeGreaterThan(0);
    for (const [path, inode] of deleted) {
      const r = await diskkitBytes(['cat', '--deleted', `${image}:/${path}`]);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(Buffer.from(r.stdout as Uint8Array).equals(execFileSync('icat', [image, inode])), path).toBe(true);
    }
    const out = join(dir, 'ntfs-out');
    const theirs = join(dir, 'ntfs-tsk');
    const r = await diskkit(['cp', '-r', '--deleted', `${image}:/`, out]);
    expect(r.exitCode, r.stderr).toBe(0);
    execFileSync('tsk_recover', ['-e', image, theirs], { stdio: 'ignore' });
    expect(files(out)).toEqual(files(theirs));
  });
});

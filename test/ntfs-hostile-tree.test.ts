/**
 * A hostile NTFS directory tree: an index entry of /a that points back at the root (made
 * with mkntfs + ntfs-3g, then the entry's MFT reference patched to record 5). Every
 * command that walks the tree must notice the loop, report it, go on with the rest and
 * exit 1 — `cp -r` used to descend into the loop until the host refused the path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { requireTools } from './helpers/oracle.js';
import { BIN, diskkit } from './helpers/cli.js';

const tools = requireTools('mkntfs', 'ntfs-3g', 'ifind');
const ROOT_RECORD = 5;
let dir = '';
let image = '';

/** Every path under `root`, relative, directories with a trailing '/'. */
function hostTree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(relative(root, p) + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

/** Points the index entry named `name` in directory record `parent` at `target` (its sequence number as the root's: 5). */
function redirectIndexEntry(parent: number, name: string, target: number): void {
  const info = JSON.parse(execFileSync(process.execPath, [BIN, '--json', 'info', image], { encoding: 'utf8' })) as { mftCluster: number; clusterSize: number; mftRecordSize: number };
  const recordAt = info.mftCluster * info.clusterSize + parent * info.mftRecordSize;
  const record = Buffer.alloc(info.mftRecordSize);
  const fd = openSync(image, 'r+');
  try {
    readSync(fd, record, 0, record.length, recordAt);
    expect(record.subarray(0, 4).toString('latin1')).toBe('FILE');
    const at = record.indexOf(Buffer.from(name, 'utf16le'));
    // The name sits 0x42 into the $FILE_NAME key, the key 0x10 into the index entry, whose first 8 bytes are the MFT reference.
    const entry = at - 0x52;
    expect(at, 'the entry is in the parent record (a small directory: $INDEX_ROOT)').toBeGreaterThan(0x52);
    const ref = Buffer.alloc(8);
    ref.writeUIntLE(target, 0, 6);
    ref.writeUInt16LE(target === ROOT_RECORD ? ROOT_RECORD : record.readUInt16LE(entry + 6), 6);
    // Sector ends hold the update sequence: the patch must not reach them.
    for (let end = 510; end < record.length; end += 512) expect(entry + 8 <= end || entry >= end + 2).toBe(true);
    writeSync(fd, ref, 0, 8, recordAt + entry);
  } finally {
    closeSync(fd);
  }
}

describe.runIf(tools)('NTFS: a directory entry pointing back at an ancestor', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'diskkit-ntfs-loop-'));
    image = join(dir, 'loop.ntfs');
    execFileSync('truncate', ['-s', '8M', image]);
    execFileSync('mkntfs', ['-F', '-q', '-c', '4096', image], { stdio: 'ignore' });
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    execFileSync('ntfs-3g', [image, mnt]);
    try {
      mkdirSync(join(mnt, 'a', 'loopdir'), { recursive: true });
      writeFileSync(join(mnt, 'top.txt'), 'top\n');
      writeFileSync(join(mnt, 'a', 'g.txt'), 'g\n');
      writeFileSync(join(mnt, 'a', 'loopdir', 'inner.txt'), 'inner\n');
    } finally {
      execFileSync('fusermount', ['-u', mnt]);
    }
    const a = Number(execFileSync('ifind', ['-n', '/a', image], { encoding: 'utf8' }).trim());
    redirectIndexEntry(a, 'loopdir', ROOT_RECORD);
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('cp -r copies the tree once, reports the loop and exits 1', async () => {
    const out = join(dir, 'out-root');
    const r = await diskkit(['cp', '-r', `${image}:/`, out]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain('a loop in the directory tree');
    const tree = hostTree(out).filter((p) => !p.startsWith('$'));
    expect(tree).toContain('top.txt');
    expect(tree).toContain('a/g.txt');
    expect(readFileSync(join(out, 'a', 'g.txt'), 'utf8')).toBe('g\n');
    // The loop is entered at most once: nothing lies deeper than a/loopdir/.
    expect(Math.max(...tree.map((p) => p.replace(/\/$/, '').split('/').length))).toBeLessThanOrEqual(2);
  });

  it('cp -r of the directory holding the bad entry stops where the walk comes back to it', async () => {
    const out = join(dir, 'out-a');
    const r = await diskkit(['cp', '-r', `${image}:/a`, out]);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain('a loop in the directory tree');
    const tree = hostTree(out);
    expect(tree).toContain('g.txt');
    // loopdir is the root again (listed once, under its one path here): /a inside it is the
    // loop, made as a directory and not descended into.
    expect(tree).toContain('loopdir/top.txt');
    expect(tree.filter((p) => p.startsWith('loopdir/a/') && p !== 'loopdir/a/')).toEqual([]);
  });

  it('ls -R -a lists every directory once, reports the loop and exits 1', async () => {
    // -a: the entry points at the root, which is hidden and system (plain -R would not descend).
    const r = await diskkit(['ls', '-R', '-a', image]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('a loop in the directory tree');
    expect(r.stdout.split('\n').filter((l) => l.endsWith(':')).length).toBeLessThanOrEqual(4);
  });
});

/**
 * The write commands (cp into an image, mkdir, rm, mv) through the built CLI on
 * images mkfs.fat made. After every write: fsck.fat -n is clean and mtools reads back
 * exactly the bytes and names that went in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { expectFsckClean, freshDir, makeImage, MENV, mdirPaths, mtoolsTree, readHostTree, type FatKind } from './helpers/fat-write.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'mcopy', 'mdir', 'mtype', 'mshowfat');
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-fatw-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) b[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

/** A host tree with long, non-ASCII, lower-case 8.3, mixed-case and colliding names, and sizes around cluster edges. */
function buildTree(root: string): void {
  const files: Record<string, number> = {
    'README.TXT': 100, 'lower.txt': 1, 'MixedCase.Md': 511, 'A rather long file name for VFAT.data': 512, 'ünïcødé — ñame.txt': 513,
    'empty': 0, 'docs/chapter one.txt': 2047, 'docs/chapter two.txt': 2048, 'docs/chapter three.txt': 2049,
    'deep/a/b/c/leaf.txt': 33, 'big/cluster-plus-one.bin': 65537, 'big/x.bin': 200_000, 'sp ace/dots.in.name.tar.gz': 77,
  };
  let seed = 1;
  let t = Date.UTC(2021, 5, 7, 8, 9, 10) / 1000;
  for (const [path, size] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, bytes(size, seed++));
    utimesSync(full, t, t);
    t += 86400 + 2;
  }
  mkdirSync(join(root, 'empty dir'));
}

/** First cluster of `path`, as mshowfat lists it ("::/x <5-7> <9>"). */
function firstCluster(img: string, path: string): number {
  const out = execFileSync('mshowfat', ['-i', img, `::${path}`], { env: MENV, encoding: 'utf8' });
  return Number(/<(\d+)/.exec(out)![1]);
}

/** The start cluster in slot 1 ('..') of directory `path`, read from the image's bytes (fatgen103 layout). */
function dotDotCluster(img: string, path: string): number {
  const b = readFileSync(img);
  const bps = b.readUInt16LE(11);
  const fatSectors = b.readUInt16LE(22) || b.readUInt32LE(36);
  const rootSectors = Math.ceil((b.readUInt16LE(17) * 32) / bps);
  const dataStart = (b.readUInt16LE(14) + b[16]! * fatSectors + rootSectors) * bps;
  const slot = dataStart + (firstCluster(img, path) - 2) * b[13]! * bps + 32;
  expect(b.toString('latin1', slot, slot + 11)).toBe('..         ');
  return b.readUInt16LE(slot + 20) * 0x10000 + b.readUInt16LE(slot + 26);
}

function mtype(img: string, path: string): Buffer {
  return execFileSync('mtype', ['-i', img, `::${path}`], { env: MENV });
}

describe.each(['fat12', 'fat16', 'fat32'] as FatKind[])('%s: writing through the CLI', (type) => {
  it.runIf(HAVE)('cp -r of a host tree reads back byte for byte through mtools, with names and times kept', async () => {
    const dir = freshDir('tree-', work);
    const host = join(dir, 'src');
    buildTree(host);
    const img = makeImage(dir, type);
    const r = await diskkit(['--json', 'cp', '-r', `${host}/.`, `${img}:/`]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.files).toBe(13);
    expectFsckClean(img);
    expect(mtoolsTree(img, freshDir('out-', dir))).toEqual(readHostTree(host));
    // mtime comes from the host file (FAT keeps 2-second resolution, local time): diskkit's listing must
    // carry it, and mdir (the peer) must show the same local date and minute.
    const hostMtime = statSync(join(host, 'docs', 'chapter one.txt')).mtime;
    const ls = await diskkit(['--json', 'ls', '-l', `${img}:/docs`]);
    const entries = JSON.parse(ls.stdout) as { name: string; mtime: string }[];
    const one = entries.find((e) => e.name === 'chapter one.txt');
    expect(one).toBeDefined();
    expect(Math.abs(new Date(one!.mtime).getTime() - hostMtime.getTime())).toBeLessThan(2000);
    const line = execFileSync('mdir', ['-i', img, '::/docs'], { env: MENV, encoding: 'utf8' }).split('\n').find((l) => l.endsWith(' chapter one.txt'));
    expect(line).toBeDefined();
    const pad = (n: number) => String(n).padStart(2, '0');
    const shown = /(\d{4}-\d{2}-\d{2})\s+(\d{1,2}):(\d{2})/.exec(line!);
    expect(shown?.slice(1)).toEqual([`${hostMtime.getFullYear()}-${pad(hostMtime.getMonth() + 1)}-${pad(hostMtime.getDate())}`, String(hostMtime.getHours()), pad(hostMtime.getMinutes())]);
  });

  it.runIf(HAVE)('names: no long-name slots for 8.3 names, NT lower-case flags, ~N tails unique in the directory', async () => {
    const dir = freshDir('names-', work);
    const host = join(dir, 'h');
    mkdirSync(host);
    const names = ['lower.txt', 'UPPER.TXT', 'other.TXT', 'Mixed.txt', 'Long File Name One.txt', 'Long File Name Two.txt', 'Long File Name Three.txt', 'a+b.c'];
    names.forEach((n, i) => writeFileSync(join(host, n), `file ${i}\n`));
    const img = makeImage(dir, type);
    expect((await diskkit(['cp', '-r', `${host}/.`, `${img}:/`])).exitCode).toBe(0);
    expectFsckClean(img);
    expect(mdirPaths(img)).toEqual([...names].sort());
    // Read back through mdir: "BASE EXT size date time [long name]", the 8.3 part shown with the NT
    // lower-case flags applied, the long name only when long-name slots exist.
    const shown = new Map<string, { short: string; long: boolean }>();
    for (const line of execFileSync('mdir', ['-i', img, '::/'], { env: MENV, encoding: 'utf8' }).split('\n')) {
      const m = /^(\S+)\s+(\S*)\s+\d+ \d{4}-\d{2}-\d{2}\s+\d+:\d{2}\s*(.*)$/.exec(line);
      if (!m) continue;
      const short = m[2] ? `${m[1]}.${m[2]}` : m[1]!;
      shown.set(m[3] || short, { short, long: m[3] !== '' });
    }
    expect(shown.get('lower.txt')).toEqual({ short: 'lower.txt', long: false });
    expect(shown.get('UPPER.TXT')).toEqual({ short: 'UPPER.TXT', long: false });
    expect(shown.get('other.TXT')).toEqual({ short: 'other.TXT', long: false });
    expect(shown.get('Mixed.txt')).toEqual({ short: 'MIXED.TXT', long: true });
    expect(['Long File Name One.txt', 'Long File Name Two.txt', 'Long File Name Three.txt'].map((n) => shown.get(n)!.short).sort()).toEqual(['LONGFI~1.TXT', 'LONGFI~2.TXT', 'LONGFI~3.TXT']);
    expect(shown.get('a+b.c')).toEqual({ short: 'A_B~1.C', long: true });
  });

  it.runIf(HAVE)('mkdir -p, mv across directories (with ".." fixed), rm -r: fsck clean and the tree as expected', async () => {
    const dir = freshDir('ops-', work);
    const img = makeImage(dir, type);
    const f = join(dir, 'f.txt');
    writeFileSync(f, 'payload\n');
    expect((await diskkit(['mkdir', '-p', `${img}:/a/b/c`, `${img}:/z`])).exitCode).toBe(0);
    expect((await diskkit(['cp', f, `${img}:/a/b/c/`])).exitCode).toBe(0);
    expectFsckClean(img);
    // b moves from /a into /z: its '..' must now point at /z; then c moves to the root: '..' = 0
    expect((await diskkit(['mv', `${img}:/a/b`, `${img}:/z`])).exitCode).toBe(0);
    expectFsckClean(img);
    expect((await diskkit(['mv', `${img}:/z/b/c`, `${img}:/Renamed dir`])).exitCode).toBe(0);
    expectFsckClean(img);
    expect(mtype(img, '/Renamed dir/f.txt').toString()).toBe('payload\n');
    // '..' read from the raw bytes, the directories' clusters from mshowfat (not through diskkit).
    expect(dotDotCluster(img, '/Renamed dir')).toBe(0);
    expect(dotDotCluster(img, '/z/b')).toBe(firstCluster(img, '/z'));
    const into = await diskkit(['mv', `${img}:/z`, `${img}:/z/b`]);
    expect(into.exitCode).toBe(1);
    expect(into.stderr).toMatch(/into itself/);
    expect((await diskkit(['rm', `${img}:/z`])).exitCode).toBe(1);
    expect((await diskkit(['rm', '-r', `${img}:/z`, `${img}:/a`])).exitCode).toBe(0);
    expectFsckClean(img);
    expect(mdirPaths(img)).toEqual(['Renamed dir/', 'Renamed dir/f.txt']);
    const root = await diskkit(['rm', '-r', `${img}:/`]);
    expect(root.exitCode).toBe(2);
    expect(root.stderr).toMatch(/refusing to remove '\/'/);
  });

  it.runIf(HAVE)('overwrite replaces the file (old clusters freed); -n keeps it', async () => {
    const dir = freshDir('clobber-', work);
    const img = makeImage(dir, type);
    const a = join(dir, 'data.bin');
    writeFileSync(a, bytes(30000, 7));
    expect((await diskkit(['cp', a, `${img}:/data.bin`])).exitCode).toBe(0);
    const free0 = JSON.parse((await diskkit(['--json', 'info', img])).stdout).freeBytes;
    writeFileSync(a, bytes(1000, 8));
    expect((await diskkit(['cp', '-n', a, `${img}:/`])).exitCode).toBe(0);
    expect(mtype(img, '/data.bin')).toEqual(bytes(30000, 7));
    expect((await diskkit(['cp', a, `${img}:/`])).exitCode).toBe(0);
    expectFsckClean(img);
    expect(mtype(img, '/data.bin')).toEqual(bytes(1000, 8));
    const free1 = JSON.parse((await diskkit(['--json', 'info', img])).stdout).freeBytes;
    expect(free1).toBeGreaterThan(free0);
  });

  it.runIf(HAVE)('a full volume: cp fails with E_NO_SPACE, takes nothing, fsck stays clean and other files are intact', async () => {
    const dir = freshDir('full-', work);
    const img = makeImage(dir, type);
    const keep = join(dir, 'keep.bin');
    writeFileSync(keep, bytes(5000, 9));
    expect((await diskkit(['cp', keep, `${img}:/keep.bin`])).exitCode).toBe(0);
    const info = JSON.parse((await diskkit(['--json', 'info', img])).stdout);
    const filler = join(dir, 'filler.bin');
    writeFileSync(filler, Buffer.alloc(info.freeBytes - 3 * info.bytesPerCluster, 1));
    expect((await diskkit(['cp', filler, `${img}:/filler.bin`])).exitCode).toBe(0);
    const before = readFileSync(img);
    const tooBig = join(dir, 'too big.bin');
    writeFileSync(tooBig, Buffer.alloc(10 * info.bytesPerCluster, 2));
    const r = await diskkit(['cp', tooBig, `${img}:/`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/no space left/);
    expectFsckClean(img);
    expect(mtype(img, '/keep.bin')).toEqual(bytes(5000, 9));
    expect(mdirPaths(img)).toEqual(['filler.bin', 'keep.bin']);
    // nothing half-allocated: the FAT, directories and FSInfo are exactly as before
    expect(readFileSync(img).equals(before)).toBe(true);
  });

  it.runIf(HAVE)('names FAT cannot store in any form are refused with E_BAD_NAME naming the path; the rest is copied (others are stored changed)', async () => {
    const dir = freshDir('bad-', work);
    const host = join(dir, 'h');
    mkdirSync(host);
    writeFileSync(join(host, 'ok.txt'), 'ok');
    writeFileSync(join(host, '...'), 'no');
    writeFileSync(join(host, '. .'), 'no');
    writeFileSync(join(host, ' '), 'no');
    writeFileSync(join(host, 'what?.txt'), 'stored as what_.txt');
    const img = makeImage(dir, type);
    const r = await diskkit(['--json', 'cp', '-r', `${host}/.`, `${img}:/`]);
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.errors.map((e: { code: string }) => e.code)).toEqual(['E_BAD_NAME', 'E_BAD_NAME', 'E_BAD_NAME']);
    expectFsckClean(img);
    expect(doc.errors.map((e: { path: string }) => e.path).sort()).toEqual(['/ ', '/. .', '/...']);
    expect(doc.renamed).toEqual([{ path: '/what_.txt', from: join(host, 'what?.txt'), reason: "FAT cannot store '?'" }]);
    expect(mdirPaths(img)).toEqual(['ok.txt', 'what_.txt']);
  });

  it.runIf(HAVE)('reproducible: cp -r --invariant into two fresh images gives identical bytes', async () => {
    const dir = freshDir('repro-', work);
    const host = join(dir, 'src');
    buildTree(host);
    const imgs = [makeImage(dir, type, 'one.img'), makeImage(dir, type, 'two.img')];
    for (const img of imgs) {
      expect((await diskkit(['cp', '-r', '--invariant', host, `${img}:/`])).exitCode).toBe(0);
      expect((await diskkit(['mkdir', '--invariant', `${img}:/later`])).exitCode).toBe(0);
      if (img === imgs[0]) await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    expectFsckClean(imgs[0]!);
    expect(readFileSync(imgs[0]!).equals(readFileSync(imgs[1]!))).toBe(true);
  });

  it.runIf(HAVE)('directory growth: hundreds of long names in one directory', async () => {
    const dir = freshDir('grow-', work);
    const host = join(dir, 'many');
    mkdirSync(host);
    const names = Array.from({ length: 300 }, (_, i) => `a long name for file number ${String(i).padStart(4, '0')}.txt`);
    names.forEach((n, i) => writeFileSync(join(host, n), `${i}\n`));
    const img = makeImage(dir, type);
    expect((await diskkit(['cp', '-r', host, `${img}:/`])).exitCode).toBe(0);
    expectFsckClean(img);
    expect(mdirPaths(img)).toEqual(['many/', ...names.map((n) => `many/${n}`)].sort());
    expect(mtype(img, `/many/${names[299]}`).toString()).toBe('299\n');
  });
});

describe('fixed root directory', () => {
  it.runIf(HAVE)('FAT12 root full: E_ROOT_FULL, nothing taken, fsck clean', async () => {
    const dir = freshDir('root-', work);
    const img = makeImage(dir, 'fat12');
    const host = join(dir, 'h');
    mkdirSync(host);
    // mkfs.fat gives a 1.44 MB floppy 224 root entries
    for (let i = 0; i < 224; i++) writeFileSync(join(host, `F${i}.TXT`), `${i}`);
    expect((await diskkit(['cp', '-r', `${host}/.`, `${img}:/`])).exitCode).toBe(0);
    const before = readFileSync(img);
    const extra = join(dir, 'EXTRA.TXT');
    writeFileSync(extra, 'x');
    const r = await diskkit(['cp', extra, `${img}:/`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/root directory is full/);
    expectFsckClean(img);
    expect(readFileSync(img).equals(before)).toBe(true);
    copyFileSync(img, join(dir, 'copy.img'));
    expect(mdirPaths(img)).toHaveLength(224);
  });
});

describe('mkfs --from', () => {
  it.runIf(HAVE)('--size auto builds the smallest image that holds the tree plus headroom; fsck clean, mtools reads the tree back', async () => {
    const dir = freshDir('from-', work);
    const host = join(dir, 'src');
    buildTree(host);
    const img = join(dir, 'auto.img');
    const r = await diskkit(['--json', 'mkfs', img, '--from', host, '--headroom', '5%']);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.filled.files).toBe(13);
    expectFsckClean(img);
    expect(mtoolsTree(img, freshDir('out-', dir))).toEqual(readHostTree(host));
    const info = JSON.parse((await diskkit(['--json', 'info', img])).stdout);
    // headroom 5% of a tree of ~275 KiB: some space is left, but not more than a small fraction of the volume
    expect(info.freeBytes).toBeGreaterThan(0);
    expect(info.freeBytes / info.totalBytes).toBeLessThan(0.25);
  });
});

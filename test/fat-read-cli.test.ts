/**
 * The read commands (info, ls, cat, cp out) through the built CLI, on images that
 * mkfs.fat and mcopy made from a host tree; expectations come from that tree (a
 * manifest) and from mdir/mtype/minfo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { diskkit, diskkitBytes } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { decodeBootSector } from '../src/engine/fat/boot-sector.js';
import { writeFatValue, readFatValue } from '../src/engine/fat/fat-entry.js';

const HAVE = requireTools('mkfs.fat', 'mcopy', 'mdir', 'mtype', 'mdel', 'minfo', 'mshowfat');
const MENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
let work = '';

interface ManifestEntry { path: string; type: 'file' | 'dir'; size: number; sha256?: string; mtime: number }

function sha(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** A deterministic host tree: long, non-ASCII and 8.3 names, deep dirs, empty files, sizes at boundaries. */
function buildTree(root: string): ManifestEntry[] {
  let seed = 12345;
  const bytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    return b;
  };
  const files: Record<string, number> = {
    'README.TXT': 100, 'lower.txt': 1, 'MixedCase.Md': 511, 'A rather long file name for VFAT.data': 512, 'ünïcødé — ñame.txt': 513,
    'empty': 0, 'docs/chapter one.txt': 2047, 'docs/2048.bin': 2048, 'docs/2049.bin': 2049, 'deep/a/b/c/d/e/leaf.txt': 33,
    'deep/a/b/c/d/e/empty dir/.keep': 0, 'big/cluster-plus-one.bin': 65537, 'big/x.bin': 200_000,
  };
  let t = Date.UTC(2020, 1, 3, 4, 5, 6) / 1000;
  for (const [path, size] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, bytes(size));
    utimesSync(full, t, t);
    t += 3600 * 26 + 2;
  }
  const out: ManifestEntry[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const st = statSync(full);
      const path = '/' + relative(root, full);
      if (st.isDirectory()) {
        out.push({ path, type: 'dir', size: 0, mtime: st.mtimeMs });
        walk(full);
      } else out.push({ path, type: 'file', size: st.size, sha256: sha(readFileSync(full)), mtime: st.mtimeMs });
    }
  };
  walk(root);
  return out;
}

let manifest: ManifestEntry[] = [];
const images: Record<string, string> = {};

beforeAll(() => {
  if (!HAVE) return;
  work = mkdtempSync(join(tmpdir(), 'dk-fatread-'));
  const tree = join(work, 'tree');
  manifest = buildTree(tree);
  for (const [type, bits, kib] of [['fat12', 12, 1440], ['fat16', 16, 20480], ['fat32', 32, 40960]] as const) {
    const img = join(work, `${type}.img`);
    execFileSync('mkfs.fat', ['-C', '-F', String(bits), '-n', `T${bits}`, img, String(kib)], { stdio: 'ignore' });
    // Fragment: copy a filler, then the tree, then delete the filler and add a file that must fill the hole and more.
    execFileSync('mcopy', ['-i', img, join(tree, 'big', 'x.bin'), '::/FILLER.BIN'], { env: MENV });
    execFileSync('mcopy', ['-i', img, '-s', '-m', ...readdirSync(tree).map((n) => join(tree, n)), '::/'], { env: MENV });
    execFileSync('mdel', ['-i', img, '::/FILLER.BIN'], { env: MENV });
    images[type] = img;
  }
  const frag = join(tree, 'fragmented.bin');
  // Every 4-byte word holds its own offset: clusters read in the wrong order change the hash.
  const pattern = Buffer.alloc(300_000);
  for (let at = 0; at + 4 <= pattern.length; at += 4) pattern.writeUInt32LE(at, at);
  writeFileSync(frag, pattern);
  manifest.push({ path: '/fragmented.bin', type: 'file', size: 300_000, sha256: sha(readFileSync(frag)), mtime: statSync(frag).mtimeMs });
  // fragmented.bin must really be in pieces whatever the allocator's order (mtools goes on from the
  // last cluster it allocated): a 64 KiB hole, then a filler that leaves 250 KiB free at the end, so
  // the 300,000 bytes need both. The filler and separator go again afterwards.
  const hole = join(work, 'hole.bin');
  writeFileSync(hole, Buffer.alloc(64 * 1024, 1));
  for (const img of Object.values(images)) {
    const free = () => Number(/([\d ]+) bytes free/.exec(execFileSync('mdir', ['-i', img, '::/'], { env: MENV, encoding: 'utf8' }))![1]!.replace(/ /g, ''));
    execFileSync('mcopy', ['-i', img, hole, '::/HOLE.BIN'], { env: MENV });
    execFileSync('mcopy', ['-i', img, hole, '::/SEP.BIN'], { env: MENV });
    const filler = join(work, 'filler.bin');
    writeFileSync(filler, Buffer.alloc(free() - 250 * 1024, 2));
    execFileSync('mcopy', ['-i', img, filler, '::/FILLER2.BIN'], { env: MENV });
    execFileSync('mdel', ['-i', img, '::/HOLE.BIN'], { env: MENV });
    execFileSync('mcopy', ['-i', img, '-m', frag, '::/'], { env: MENV });
    execFileSync('mdel', ['-i', img, '::/FILLER2.BIN', '::/SEP.BIN'], { env: MENV });
  }
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.each(['fat12', 'fat16', 'fat32'])('%s image made by mkfs.fat + mcopy', (type) => {
  it.runIf(HAVE)('ls -R --json lists exactly the manifest (paths, types, sizes, mtimes)', async () => {
    const r = await diskkit(['--json', 'ls', '-R', images[type]!]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const got = JSON.parse(r.stdout) as { path: string; type: string; size: number; mtime: string }[];
    const norm = (e: { path: string; type: string; size: number }) => `${e.type} ${e.path} ${e.size}`;
    expect(got.map(norm).sort()).toEqual(manifest.map(norm).sort());
    for (const e of got.filter((x) => x.type === 'file')) {
      const m = manifest.find((x) => x.path === e.path)!;
      // FAT keeps modification times to 2 seconds.
      expect(Math.abs(Date.parse(e.mtime) - m.mtime)).toBeLessThan(2000);
    }
  });

  it.runIf(HAVE)('ls -R agrees with mdir -/ -b on the set of paths', async () => {
    const mdir = execFileSync('mdir', ['-i', images[type]!, '-b', '-/', '::/'], { env: MENV, encoding: 'utf8' });
    const fromMdir = mdir.split('\n').filter(Boolean).map((l) => l.replace(/^::/, '').replace(/\/$/, '')).sort();
    const r = await diskkit(['--json', 'ls', '-R', images[type]!]);
    expect((JSON.parse(r.stdout) as { path: string }[]).map((e) => e.path).sort()).toEqual(fromMdir);
  });

  it.runIf(HAVE)('cat returns each file byte for byte, the same as mtype', async () => {
    for (const m of manifest.filter((x) => x.type === 'file')) {
      const r = await diskkitBytes(['cat', `${images[type]}:${m.path}`]);
      expect(r.exitCode).toBe(0);
      expect(sha(r.stdout as Uint8Array)).toBe(m.sha256);
    }
    // The file really is in pieces: mshowfat lists its clusters as more than one <first-last> run.
    const runs = execFileSync('mshowfat', ['-i', images[type]!, '::/fragmented.bin'], { env: MENV, encoding: 'utf8' }).match(/<\d+(-\d+)?>/g) ?? [];
    expect(runs.length).toBeGreaterThan(1);
    const viaMtype = execFileSync('mtype', ['-i', images[type]!, '::/fragmented.bin'], { env: MENV });
    const ours = await diskkitBytes(['cat', `${images[type]}:/FRAGMENTED.BIN`]);
    expect(Buffer.compare(viaMtype, ours.stdout as Uint8Array)).toBe(0);
  });

  it.runIf(HAVE)('cp -r IMAGE:/ copies the whole tree with contents and mtimes', async () => {
    const dest = join(work, `out-${type}`);
    const r = await diskkit(['cp', '-r', `${images[type]}:/`, dest]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    for (const m of manifest) {
      const st = statSync(join(dest, m.path));
      expect(st.isDirectory()).toBe(m.type === 'dir');
      if (m.type === 'file') {
        expect(sha(readFileSync(join(dest, m.path)))).toBe(m.sha256);
        expect(Math.abs(st.mtimeMs - m.mtime)).toBeLessThan(2000);
      }
    }
  });

  it.runIf(HAVE)('cp follows cp(1): existing dir receives SRC, DIR/. copies contents, a file to a new name', async () => {
    const base = join(work, `sem-${type}`);
    mkdirSync(base);
    expect((await diskkit(['cp', '-r', `${images[type]}:/docs`, base])).exitCode).toBe(0);
    expect(readdirSync(join(base, 'docs')).sort()).toEqual(['2048.bin', '2049.bin', 'chapter one.txt']);
    expect((await diskkit(['cp', '-r', `${images[type]}:/docs/.`, join(base, 'contents')])).exitCode).toBe(0);
    expect(readdirSync(join(base, 'contents')).sort()).toEqual(['2048.bin', '2049.bin', 'chapter one.txt']);
    expect((await diskkit(['cp', `${images[type]}:/readme.txt`, join(base, 'r.txt')])).exitCode).toBe(0);
    expect(readFileSync(join(base, 'r.txt')).length).toBe(100);
    const noR = await diskkit(['cp', `${images[type]}:/docs`, base]);
    expect(noR.exitCode).toBe(1);
    expect(noR.stderr).toMatch(/is a directory.*\/docs/);
  });

  it.runIf(HAVE)('info --json agrees with minfo and counts free clusters from the FAT', async () => {
    const r = await diskkit(['--json', 'info', images[type]!]);
    expect(r.exitCode).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.fatType).toBe(type.toUpperCase());
    expect(info.label).toBe(`T${type.slice(3)}`);
    const minfo = execFileSync('minfo', ['-i', images[type]!, '::'], { env: MENV, encoding: 'utf8' });
    expect(info.bytesPerSector).toBe(Number(/sector size: (\d+)/.exec(minfo)![1]));
    expect(info.sectorsPerCluster).toBe(Number(/cluster size: (\d+)/.exec(minfo)![1]));
    const mdirFree = execFileSync('mdir', ['-i', images[type]!, '::/'], { env: MENV, encoding: 'utf8' });
    const free = Number(/([\d ]+) bytes free/.exec(mdirFree)![1]!.replace(/ /g, ''));
    expect(info.freeBytes).toBe(free);
  });
});

/** Finds the root-directory slot of a short name in a FAT16 image and returns its byte offset. */
function rootSlot(img: Buffer, raw11: string): number {
  const boot = decodeBootSector(img.subarray(0, 512));
  const start = boot.rootDirSector * 512;
  for (let o = start; o < start + boot.rootEntryCount * 32; o += 32) if (img.subarray(o, o + 11).toString('latin1') === raw11) return o;
  throw new Error(`no ${raw11}`);
}

describe('hostile FAT16 images (patched bytes of a real image)', () => {
  function patched(name: string, patch: (img: Buffer) => void): string {
    const img = readFileSync(images.fat16!);
    patch(img);
    const out = join(work, `${name}.img`);
    writeFileSync(out, img);
    return out;
  }

  it.runIf(HAVE)('a looping chain: cat fails naming the file, ls still lists, cp -r copies the rest and exits 1', async () => {
    const img = patched('loop', (b) => {
      const boot = decodeBootSector(b.subarray(0, 512));
      const slot = rootSlot(b, 'FRAGME~1BIN');
      const start = b.readUInt16LE(slot + 26);
      const fat = b.subarray(boot.firstFatSector * 512, (boot.firstFatSector + boot.sectorsPerFat) * 512);
      const second = readFatValue(fat, 'fat16', start);
      writeFatValue(fat, 'fat16', second, start);
    });
    const cat = await diskkit(['cat', `${img}:/fragmented.bin`]);
    expect(cat.exitCode).toBe(1);
    expect(cat.stderr).toMatch(/loops.*path \/fragmented\.bin/);
    const ls = await diskkit(['ls', img]);
    expect(ls.exitCode).toBe(0);
    expect(ls.stdout).toContain('fragmented.bin');
    const dest = join(work, 'loop-out');
    const cp = await diskkit(['cp', '-r', `${img}:/`, dest]);
    expect(cp.exitCode).toBe(1);
    expect(cp.stderr).toMatch(/fragmented\.bin/);
    expect(readFileSync(join(dest, 'README.TXT')).length).toBe(100);
  });

  it.runIf(HAVE)('a size far beyond the chain is a clear E_CORRUPT-style error, not a huge allocation', async () => {
    const img = patched('huge', (b) => b.writeUInt32LE(0xfffffff0, rootSlot(b, 'README  TXT') + 28));
    const cat = await diskkit(['cat', `${img}:/README.TXT`]);
    expect(cat.exitCode).toBe(1);
    expect(cat.stderr).toMatch(/claims \d+ bytes.*path \/README\.TXT/);
  });

  it.runIf(HAVE)("names with '/', '..' and control characters never leave the destination and are escaped by ls", async () => {
    const img = patched('names', (b) => {
      b.write('A/B     TXT', rootSlot(b, 'README  TXT'), 'latin1');
      // the long name of MixedCase.Md: rewrite its units to '..' (checksum still matches the short entry)
      const short = rootSlot(b, 'MIXEDC~1MD ');
      const lfn = short - 32;
      const checksum = b[lfn + 13]!;
      b.fill(0xff, lfn + 1, lfn + 32);
      b[lfn + 11] = 0x0f;
      b[lfn + 12] = 0;
      b[lfn + 13] = checksum;
      b.writeUInt16LE(0x2e, lfn + 1);
      b.writeUInt16LE(0x2e, lfn + 3);
      b.writeUInt16LE(0, lfn + 5);
      b.writeUInt16LE(0, lfn + 26);
      // the long name of "A rather long..." becomes ESC [ 3 1 m
      const s2 = rootSlot(b, 'ARATHE~1DAT');
      const units = [0x1b, 0x5b, 0x33, 0x31, 0x6d, 0];
      // slots before the short entry: the last (lowest) one holds units 1..13
      const first = s2 - 32;
      const offs = [1, 3, 5, 7, 9, 14];
      units.forEach((u, i) => b.writeUInt16LE(u, first + offs[i]!));
      for (let k = s2 - 64; k >= 0 && b[k + 11] === 0x0f; k -= 32) b[k] = 0xe5;
      b[first] = 0x41; // now the only (last) slot
    });
    const ls = await diskkit(['ls', img]);
    expect(ls.stdout).not.toContain('\u001b');
    expect(ls.stdout).toContain('\\x1b[31m');
    const parent = join(work, 'names-parent');
    const dest = join(parent, 'dest');
    mkdirSync(parent);
    const cp = await diskkit(['cp', '-r', `${img}:/`, dest]);
    expect(readdirSync(parent)).toEqual(['dest']);
    expect(existsSync(join(dest, 'A_B.TXT'))).toBe(true);
    expect(existsSync(join(dest, '_..'))).toBe(true);
    expect(existsSync(join(dest, '_[31m'))).toBe(true);
    expect(cp.stderr).toMatch(/warning: .*written as/);
    expect(cp.exitCode).toBe(0);
  });

  it.runIf(HAVE)('a BPB claiming more sectors than the file holds names the field', async () => {
    const img = patched('trunc', () => {});
    const b = readFileSync(img);
    writeFileSync(img, b.subarray(0, b.length / 2));
    const r = await diskkit(['ls', img]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^diskkit: .*trunc\.img: boot sector claims \d+ bytes but the image holds \d+ \(field totalSectors\)/);
  });
});

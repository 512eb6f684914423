/**
 * The indexer against real NTFS made by mkntfs + ntfs-3g (fixtures/make-ntfs-fixtures.sh,
 * regenerated into a temp directory): the allocated entries equal `fls -r -p -l`,
 * the dump and the volume give the same index, every read mode gives the same
 * bytes, and the CLI's outputs and errors behave.
 *
 * Deliberate differences from fls, documented: fls adds the virtual `$OrphanFiles`
 * directory and lists attributes as `name:attr` rows (ADS, `$BadClus:$Bad`);
 * metadata files without an unnamed $DATA ($Secure, $Extend/$Quota, $ObjId,
 * $Reparse) appear in fls only through those `name:attr` rows, while diskkit lists
 * the file itself; diskkit lists the root as `/`. Directory sizes are not compared
 * (fls reports the index size, diskkit the unnamed $DATA, 0).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTools } from './helpers/oracle.js';
import { diskkit } from './helpers/cli.js';

const tools = requireTools('mkntfs', 'ntfs-3g', 'icat', 'fls');
const script = fileURLToPath(new URL('../fixtures/make-ntfs-fixtures.sh', import.meta.url));
const shipped = fileURLToPath(new URL('../fixtures/ntfs/small.mft', import.meta.url));
let dir = '';

function flsEntries(image: string): { entries: Set<string>; attrOnly: Set<string> } {
  const out = execFileSync('fls', ['-r', '-p', '-l', image], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const entries = new Set<string>();
  const withAttr = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /^(\S)\/(\S) (\* )?(\S+):\t([^\t]*)\t(?:[^\t]*\t){4}(\d+)/.exec(line);
    if (!m || m[3]) continue;
    const path = '/' + m[5]!;
    if (m[1] === 'V' || path.startsWith('/$OrphanFiles')) continue;
    const last = path.slice(path.lastIndexOf('/') + 1);
    if (last.includes(':')) {
      withAttr.add(path.slice(0, path.lastIndexOf(':')));
      continue;
    }
    entries.add(`${path}\t${m[2] === 'd' ? 'dir' : m[6]}`);
  }
  const attrOnly = new Set([...withAttr].filter((p) => ![...entries].some((e) => e.startsWith(p + '\t'))));
  return { entries, attrOnly };
}

function ourEntries(jsonl: string, attrOnly: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const line of jsonl.split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line) as { path: string; isDir: boolean; size: number };
    if (r.path === '/' || (!r.isDir && attrOnly.has(r.path))) continue;
    out.add(`${r.path}\t${r.isDir ? 'dir' : r.size}`);
  }
  return out;
}

describe.runIf(tools)('mft index on real NTFS (mkntfs + ntfs-3g)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'diskkit-mft-'));
    execFileSync(script, [dir, 'all'], { stdio: 'ignore' });
  }, 600_000);

  describe.each(['small', '4k'])('%s volume', (name) => {
    it('lists exactly the allocated entries fls -r -p lists, with the same sizes', async () => {
      const image = join(dir, `${name}.ntfs`);
      const r = await diskkit(['mft', 'index', image]);
      expect(r.exitCode, r.stderr).toBe(0);
      const { entries, attrOnly } = flsEntries(image);
      expect(entries.size).toBeGreaterThan(700);
      expect([...ourEntries(r.stdout, attrOnly)].sort()).toEqual([...entries].sort());
      expect(attrOnly).toEqual(new Set(['/$Secure', '/$Extend/$Quota', '/$Extend/$ObjId', '/$Extend/$Reparse']));
    });

    it('the $MFT dump (icat IMG 0) and the volume give the same index', async () => {
      const a = await diskkit(['mft', 'index', join(dir, `${name}.ntfs`), '--deleted', '--streams']);
      const b = await diskkit(['mft', 'index', join(dir, `${name}.mft`), '--deleted', '--streams']);
      expect(a.exitCode).toBe(0);
      expect(b.stdout).toBe(a.stdout);
    });

    it.each(['streaming', 'prefetch', 'pipelined', 'parallel', 'mmap', 'auto'])('read mode %s gives byte-identical output', async (mode) => {
      const base = await diskkit(['mft', 'index', join(dir, `${name}.ntfs`), '--mode', 'streaming', '--deleted', '--streams']);
      const r = await diskkit(['mft', 'index', join(dir, `${name}.ntfs`), '--mode', mode, '--chunk-size', '64K', '--workers', '2', '--deleted', '--streams']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toBe(base.stdout);
    });
  });

  it('finds what the fixture script made: hard links, ADS, non-ASCII and long names, deep tree, deleted files', async () => {
    const r = await diskkit(['mft', 'index', join(dir, 'small.ntfs'), '--deleted', '--streams']);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; record: number; size: number; deleted: boolean; streams: { name: string; size: number }[]; flags: string[] });
    const by = new Map(rows.map((x) => [x.path, x]));
    expect(by.get('/links/a/original.txt')!.record).toBe(by.get('/links/b/link-elsewhere.txt')!.record);
    expect(by.get('/ads.txt')!.streams).toEqual([{ name: 'big-stream', size: 5000 }, { name: 'secret', size: 14 }]);
    expect(by.get('/ads.txt:secret')!.size).toBe(14);
    expect(by.has('/names/日本語のファイル名.txt')).toBe(true);
    expect(by.has('/names/emoji-😀-file.txt')).toBe(true);
    expect([...by.keys()].some((p) => p.endsWith('/level-24/bottom.txt'))).toBe(true);
    expect(by.get('/sparse.bin')!.flags).toContain('sparse');
    expect(by.get('/sparse.bin')!.size).toBe(50 * 1024 * 1024 + 5);
    expect(by.get('/fragmented.bin')!.size).toBe(120 * 4096);
    expect(by.get('/trash/sub/deleted-file.txt')?.deleted).toBe(true);
    expect(rows.filter((x) => x.path.startsWith('/bigdir/')).length).toBe(600);
  });

  it('--partition N indexes the NTFS volume inside an MBR disk image (and it is found without --partition)', async () => {
    const disk = join(dir, 'disk.img');
    const offset = 1 << 20;
    execFileSync('sh', ['-c', `truncate -s 0 ${disk} && truncate -s ${offset} ${disk} && cat ${join(dir, 'small.ntfs')} >> ${disk}`]);
    const size = readFileSync(join(dir, 'small.ntfs')).length;
    const mbr = Buffer.alloc(512);
    mbr[446 + 4] = 0x07; // NTFS/exFAT type byte
    mbr.writeUInt32LE(offset / 512, 446 + 8);
    mbr.writeUInt32LE(size / 512, 446 + 12);
    mbr.writeUInt16LE(0xaa55, 510);
    const fd = (await import('node:fs')).openSync(disk, 'r+');
    (await import('node:fs')).writeSync(fd, mbr, 0, 512, 0);
    (await import('node:fs')).closeSync(fd);
    const volume = await diskkit(['mft', 'index', join(dir, 'small.ntfs')]);
    const part = await diskkit(['--partition', '1', 'mft', 'index', disk]);
    expect(part.exitCode, part.stderr).toBe(0);
    expect(part.stdout).toBe(volume.stdout);
    expect((await diskkit(['mft', 'index', disk])).stdout).toBe(volume.stdout);
    const none = await diskkit(['--partition', '2', 'mft', 'index', disk]);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/no partition 2/);
  });

  it('--skip-unused reads only in-use records and gives the same rows', async () => {
    const all = await diskkit(['mft', 'index', join(dir, 'small.ntfs')]);
    const used = await diskkit(['mft', 'index', join(dir, 'small.ntfs'), '--skip-unused']);
    expect(used.stdout).toBe(all.stdout);
    const summary = JSON.parse((await diskkit(['--json', 'mft', 'index', join(dir, 'small.ntfs'), '--skip-unused'])).stdout);
    const full = JSON.parse((await diskkit(['--json', 'mft', 'index', join(dir, 'small.ntfs')])).stdout);
    expect(summary.records).toBeLessThan(full.records);
    expect(summary.files).toBe(full.files);
  });

  it('csv and bodyfile carry the same paths as jsonl', async () => {
    const image = join(dir, 'small.ntfs');
    const jsonl = (await diskkit(['mft', 'index', image])).stdout.trim().split('\n').map((l) => JSON.parse(l).path as string);
    const body = (await diskkit(['mft', 'index', image, '--format', 'bodyfile'])).stdout.trim().split('\n');
    // two lines a path, as fls -m writes them: the $FILE_NAME times, then the $STANDARD_INFORMATION times
    expect(body.length).toBe(2 * jsonl.length);
    expect(body.filter((l) => l.split('|')[1]!.endsWith(' ($FILE_NAME)')).length).toBe(jsonl.length);
    for (const line of body) expect(line.split('|').length).toBe(11);
    const out = join(dir, 'index.csv');
    const csv = await diskkit(['mft', 'index', image, '--format', 'csv', '--out', out]);
    expect(csv.stdout).toBe('');
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('record,sequence,parent,path,name,size,allocated,isDir,deleted,flags,si.created,si.modified,si.mftModified,si.accessed,fn.created,fn.modified,fn.mftModified,fn.accessed,links,streams');
    expect(lines.length - 1).toBe(jsonl.length);
    expect(lines.some((l) => l.includes('"/names/comma,quote""name.txt"'))).toBe(true);
  });

  it('bodyfile rows agree with fls -r -m: size and the four times of every path both list', async () => {
    const image = join(dir, 'small.ntfs');
    const rows = (text: string): Map<string, string[]> => new Map(text.trim().split('\n').map((l) => l.split('|')).map((f) => [f[1]!, f]));
    const ours = rows((await diskkit(['mft', 'index', image, '--format', 'bodyfile'])).stdout);
    const peer = rows(execFileSync('fls', ['-r', '-m', '/', image], { encoding: 'utf8', maxBuffer: 1 << 28 }));
    const shared = [...ours.keys()].filter((path) => peer.has(path));
    // Everything but the root, its '/ ($FILE_NAME)' row (fls writes none for the root) and the
    // four attribute-only metadata files (see the file comment).
    expect(shared.length).toBe(ours.size - 6);
    const fields = (f: string[]) => ({ size: f[3]!.startsWith('d') ? 'dir' : f[6], atime: f[7], mtime: f[8], ctime: f[9], crtime: f[10] });
    const differing = shared.filter((path) => JSON.stringify(fields(ours.get(path)!)) !== JSON.stringify(fields(peer.get(path)!)));
    // Known difference, left for the bodyfile writer: two hard links in one directory, where the
    // '($FILE_NAME)' row of each name carries the other name's $FILE_NAME times (fls pairs them by name).
    // And /$MFT, whose $STANDARD_INFORMATION times are FILETIME 0 on disk (ntfs-3g zeroes them when it
    // rewrites record 0): diskkit writes 0 ("never set"), fls writes 3373865674 (2076-11-29), its
    // unsigned 64-bit subtraction of the 1601..1970 offset from 0, cut to 32 bits. Both checked below.
    expect(differing.sort()).toEqual(['/$MFT', '/links/a/link-same-dir.txt ($FILE_NAME)', '/links/a/original.txt ($FILE_NAME)']);
    const disk = readFileSync(image);
    const clusterBytes = disk.readUInt16LE(11) * disk[13]!;
    const record0 = Number(disk.readBigUInt64LE(48)) * clusterBytes;
    let at = record0 + disk.readUInt16LE(record0 + 20);
    while (disk.readUInt32LE(at) !== 0x10) at += disk.readUInt32LE(at + 4);
    const siTimes = disk.subarray(at + disk.readUInt16LE(at + 20), at + disk.readUInt16LE(at + 20) + 32);
    expect(siTimes.equals(Buffer.alloc(32))).toBe(true);
    const tskZero = String(((2n ** 64n - 116_444_736_000_000_000n) / 10_000_000n) % 2n ** 32n);
    expect(fields(peer.get('/$MFT')!)).toMatchObject({ atime: tskZero, mtime: tskZero, ctime: tskZero, crtime: tskZero });
    expect(fields(ours.get('/$MFT')!)).toMatchObject({ atime: '0', mtime: '0', ctime: '0', crtime: '0' });
    // Every other column of the row agrees.
    expect({ ...fields(ours.get('/$MFT')!), atime: 0, mtime: 0, ctime: 0, crtime: 0 }).toEqual({ ...fields(peer.get('/$MFT')!), atime: 0, mtime: 0, ctime: 0, crtime: 0 });
  });

  it('a truncated volume and a damaged dump are reported, not crashed on; --strict makes them errors', async () => {
    const bytes = readFileSync(join(dir, 'small.mft'));
    const damaged = Buffer.from(bytes);
    damaged.fill(0x5a, 70 * 1024, 70 * 1024 + 1024); // garbage record
    damaged[80 * 1024 + 510] ^= 0xff; // torn record
    const path = join(dir, 'damaged.mft');
    writeFileSync(path, damaged.subarray(0, damaged.length - 100));
    const r = await diskkit(['--json', 'mft', 'index', path]);
    expect(r.exitCode, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.badRecords).toBe(2);
    expect(s.warnings.map((w: { code: string }) => w.code)).toContain('E_TRUNCATED');
    const strict = await diskkit(['mft', 'index', path, '--strict']);
    expect(strict.exitCode).toBe(1);
    expect(strict.stderr).toMatch(/^diskkit: .*damaged\.mft: --strict: /);
    expect(strict.stdout).toBe('');
  });
});

describe('mft index CLI on the shipped fixture', () => {
  it('indexes fixtures/ntfs/small.mft without any tool and prints a --json summary', async () => {
    const r = await diskkit(['--json', 'mft', 'index', shipped]);
    expect(r.exitCode, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(Object.keys(s)).toEqual(expect.arrayContaining(['records', 'inUse', 'files', 'dirs', 'orphans', 'badRecords', 'seconds', 'recordsPerSecond', 'mbPerSecond', 'mode', 'workers']));
    expect(s.kind).toBe('dump');
    expect(s.badRecords).toBe(0);
    const rows = (await diskkit(['mft', 'index', shipped])).stdout.trim().split('\n');
    expect(rows.length).toBe(s.rows);
    expect(Object.keys(JSON.parse(rows[0]!))).toEqual(['record', 'sequence', 'parent', 'path', 'name', 'size', 'allocated', 'isDir', 'deleted', 'flags', 'si', 'fn', 'links', 'streams']);
  });

  it('mft bench runs each requested mode and marks the best', async () => {
    const r = await diskkit(['--json', 'mft', 'bench', shipped, '--modes', 'streaming,parallel']);
    expect(r.exitCode, r.stderr).toBe(0);
    const b = JSON.parse(r.stdout);
    expect(b.modes.map((m: { mode: string }) => m.mode)).toEqual(['streaming', 'parallel']);
    expect(b.modes.filter((m: { best: boolean }) => m.best).length).toBe(1);
    expect(b.modes[1].workers).toBeGreaterThan(1);
  });

  it('rejects bad options and non-NTFS input with a clear error', async () => {
    expect((await diskkit(['mft', 'index', shipped, '--format', 'xml'])).exitCode).toBe(2);
    expect((await diskkit(['mft', 'index', shipped, '--mode', 'warp'])).exitCode).toBe(2);
    const notNtfs = await diskkit(['mft', 'index', fileURLToPath(new URL('../package.json', import.meta.url))]);
    expect(notNtfs.exitCode).toBe(1);
    expect(notNtfs.stderr).toMatch(/^diskkit: .*package\.json: neither an NTFS volume nor an \$MFT dump/);
    const missing = await diskkit(['mft', 'index', '/nonexistent/x.mft']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/no such file/);
  });

  it('a sparse dump claiming more records than memory can index is refused up front, in every mode', async () => {
    const huge = join(mkdtempSync(join(tmpdir(), 'diskkit-mft-huge-')), 'huge.mft');
    // One real record at the start makes it a dump; the rest is a hole: 2^43 bytes, 2^33 records.
    writeFileSync(huge, readFileSync(shipped).subarray(0, 1024));
    truncateSync(huge, 2 ** 43);
    for (const mode of ['streaming', 'parallel']) {
      const r = await diskkit(['mft', 'index', huge, '--mode', mode]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/^diskkit: .*huge\.mft: an MFT of 8589934592 records needs \d+ MiB for its index, more than this machine has/);
    }
    rmSync(huge);
  });
});

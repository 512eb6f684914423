/**
 * NtfsVolume against real NTFS (fixtures/make-ntfs-fixtures.sh `read`: mkntfs +
 * ntfs-3g, regenerated into a temp directory), with The Sleuth Kit as the oracle:
 * every file's and stream's bytes equal `icat`, the recursive listing equals
 * `fls -r -p` (paths, types, sizes), deleted entries equal fls's, a copy-out of the
 * tree through openFile equals what `tsk_recover -a` writes, info equals `fsstat`.
 *
 * Name display: fls and tsk_recover print a control character as '^'; the volume
 * returns the name as stored, so the comparison maps control characters to '^'.
 *
 * `/holes/` is left out of the comparisons: the fixture made 5,000 one-cluster files
 * there to fragment a file and then removed them all, and some of their MFT records
 * were reused for that file's extension records; The Sleuth Kit then reports the stale
 * `$I30` entries pointing at those (in-use) records as allocated files, while the
 * directory's index no longer lists them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileBlockSource, MemoryBlockSource } from '../src/io/block-source.js';
import { locateMft } from '../src/engine/ntfs/mft-source.js';
import { seededRandom } from '../src/engine/seeded-random.js';
import { NtfsVolume, ntfsFormat, decompressLznt1 } from '../src/engine/ntfs/index.js';
import { probeSource } from '../src/engine/formats.js';
import '../src/engine/registered-formats.js';
import { rawExtentsOf } from '../src/engine/extent-reader.js';
import { DiskkitError, ErrorCode } from '../src/engine/errors.js';
import type { EntryInfo, FileDataSource, Volume } from '../src/engine/volume.js';
import { requireTools } from './helpers/oracle.js';
import { diskkit, diskkitBytes } from './helpers/cli.js';

const tools = requireTools('mkntfs', 'ntfs-3g', 'setfattr', 'icat', 'fls', 'istat', 'fsstat', 'tsk_recover', 'sfdisk');
const script = fileURLToPath(new URL('../fixtures/make-ntfs-fixtures.sh', import.meta.url));
let dir = '';
let image = '';

interface FlsRow {
  path: string;
  type: 'file' | 'dir';
  size: number;
  address: string;
  deleted: boolean;
}

/** fls -r -p -l rows: allocated and deleted, without the virtual $OrphanFiles tree. */
function fls(): FlsRow[] {
  const out = execFileSync('fls', ['-r', '-p', '-l', image], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const rows: FlsRow[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\S)\/(\S) (\* )?(\S+):\t([^\t]*)\t(?:[^\t]*\t){4}(\d+)/.exec(line);
    if (!m || m[1] === 'V' || m[5]!.startsWith('$OrphanFiles') || m[5]!.startsWith('holes/')) continue;
    rows.push({ path: '/' + m[5]!, type: m[2] === 'd' ? 'dir' : 'file', size: Number(m[6]), address: m[4]!, deleted: m[3] !== undefined });
  }
  return rows;
}

function shown(name: string): string {
  return name.replace(/[\x00-\x1f]/g, '^');
}

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads a whole stream through the reader in odd-sized chunks (crossing runs and compression units). */
function readAll(file: FileDataSource, chunk = 100_003): Buffer {
  const out = Buffer.alloc(file.size);
  const buf = new Uint8Array(chunk);
  for (let at = 0; at < file.size; at += chunk) {
    const n = Math.min(chunk, file.size - at);
    file.read(buf, n, at);
    out.set(buf.subarray(0, n), at);
  }
  return out;
}

function icat(address: string): Buffer {
  return execFileSync('icat', [image, address], { maxBuffer: 1 << 30 });
}

/** Every entry below `start`, recursively, as list() returns them (descending into deleted directories too when `deleted`). */
function listTree(volume: Volume, start: string | EntryInfo, deleted: boolean, out: EntryInfo[] = []): EntryInfo[] {
  for (const e of volume.list(start, { deleted })) {
    out.push(e);
    if (e.type === 'dir') listTree(volume, e, deleted, out);
  }
  return out;
}

function open(): NtfsVolume {
  return NtfsVolume.open(FileBlockSource.open(image));
}

describe.runIf(tools)('NtfsVolume on a real NTFS volume (mkntfs + ntfs-3g)', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'diskkit-ntfsvol-'));
    execFileSync(script, [dir, 'read'], { stdio: 'ignore' });
    image = join(dir, 'read.ntfs');
  }, 120_000);

  it('the fixture holds what the reader must handle (istat): attribute lists, thousands of runs, compression, sparse runs', () => {
    const rows = fls();
    const istat = (path: string): string => execFileSync('istat', [image, rows.find((r) => r.path === path)!.address.split('-')[0]!], { encoding: 'utf8', maxBuffer: 1 << 26 });
    for (const path of ['/many-runs.bin', '/fragmented.bin']) expect(istat(path), path).toMatch(/\$ATTRIBUTE_LIST/);
    // fragmented.bin: clusters listed in order; count the breaks between consecutive ones.
    const clusters = istat('/fragmented.bin').split(/\$DATA[^\n]*\n/)[1]!.trim().split(/\s+/).map(Number);
    let runs = 1;
    for (let i = 1; i < clusters.length; i++) if (clusters[i] !== clusters[i - 1]! + 1) runs++;
    expect(runs).toBeGreaterThan(1500);
    for (const path of ['/compressed/text.txt', '/compressed/mixed.bin', '/compressed/random.bin']) expect(istat(path), path).toMatch(/Non-Resident, Compressed/);
    expect(istat('/sparse.bin')).toMatch(/Non-Resident, Sparse/);
  });

  it('is probed as NTFS by the registry, before FAT', () => {
    const source = FileBlockSource.open(image);
    try {
      expect(probeSource(source)?.name).toBe(ntfsFormat.name);
    } finally {
      source.close();
    }
  });

  it('lists the tree fls -r -p lists: paths, types, sizes of allocated entries', () => {
    const rows = fls().filter((r) => !r.deleted);
    const volume = open();
    try {
      // fls lists metadata files without an unnamed $DATA only through their streams (name:attr rows).
      const streamRows = rows.filter((r) => r.path.slice(r.path.lastIndexOf('/')).includes(':'));
      const expected = rows.filter((r) => !streamRows.includes(r)).map((r) => `${r.path}\t${r.type}\t${r.type === 'dir' ? 0 : r.size}`);
      const ours = listTree(volume, '/', false)
        .map((e) => `${shown(e.path)}\t${e.type}\t${e.size}`)
        .filter((line) => expected.includes(line) || !streamRows.some((r) => r.path.startsWith(line.split('\t')[0]! + ':')));
      expect(ours.sort()).toEqual(expected.sort());
      expect(expected.length).toBeGreaterThan(30);
    } finally {
      volume.close();
    }
  });

  it('reads every file equal to icat, through openFile in chunks and through readFile', () => {
    const volume = open();
    try {
      const rows = fls().filter((r) => !r.deleted && r.type === 'file' && !r.path.startsWith('/$') && !r.path.includes(':'));
      expect(rows.length).toBeGreaterThan(20);
      const byPath = new Map(listTree(volume, '/', false).map((e) => [shown(e.path), e]));
      for (const row of rows) {
        const entry = byPath.get(row.path)!;
        expect(entry, row.path).toBeDefined();
        const expected = sha(icat(row.address.split('-')[0]!));
        expect(sha(readAll(volume.openFile(entry))), row.path).toBe(expected);
        if (entry.size < 4 << 20) expect(sha(volume.readFile(entry)), row.path).toBe(expected);
      }
    } finally {
      volume.close();
    }
  });

  it('reads alternate data streams as IMAGE:/path:stream equal to icat INODE-128-ID, and lists them with sizes', () => {
    const volume = open();
    try {
      const named = fls().filter((r) => !r.deleted && r.path.startsWith('/ads.txt:'));
      expect(named.map((r) => r.path).sort()).toEqual(['/ads.txt:big', '/ads.txt:secret']);
      for (const row of named) {
        expect(sha(readAll(volume.openFile(row.path), 4097)), row.path).toBe(sha(icat(row.address)));
        expect(volume.stat(row.path).size).toBe(row.size);
      }
      const ads = volume.list('/', { streams: true }).find((e) => e.name === 'ads.txt')!;
      expect([...ads.streams!].sort((a, b) => a.name.localeCompare(b.name))).toEqual(named.map((r) => ({ name: r.path.slice('/ads.txt:'.length), size: r.size })).sort((a, b) => a.name.localeCompare(b.name)));
      expect(() => volume.openFile('/ads.txt:nope')).toThrowError(expect.objectContaining({ code: ErrorCode.NOT_FOUND }));
    } finally {
      volume.close();
    }
  });

  it('lists deleted entries as fls does (walking into deleted directories too)', () => {
    const expected = fls().filter((r) => r.deleted).map((r) => `${r.path}\t${r.type}`);
    const volume = open();
    try {
      const ours = listTree(volume, '/', true).filter((e) => e.deleted && !e.path.startsWith('/holes/')).map((e) => `${e.path}\t${e.type}`);
      expect(expected.length).toBeGreaterThanOrEqual(3);
      expect(ours.sort()).toEqual(expected.sort());
    } finally {
      volume.close();
    }
  });

  it('reads every file as ntfs-3g does: the tree mounted read-only, each file hashed both ways', () => {
    const mnt = mkdtempSync(join(dir, 'mnt-'));
    execFileSync('ntfs-3g', ['-o', 'ro', image, mnt]);
    const theirs = new Map<string, string>();
    try {
      const walkMount = (d: string, rel: string): void => {
        for (const name of readdirSync(d)) {
          const p = join(d, name);
          const st = statSync(p);
          if (st.isDirectory()) walkMount(p, `${rel}/${name}`);
          else if (st.isFile()) theirs.set(`${rel}/${name}`, `${st.size}\t${sha(readFileSync(p))}`);
        }
      };
      walkMount(mnt, '');
    } finally {
      execFileSync('fusermount', ['-u', mnt]);
    }
    const volume = open();
    try {
      const ours = new Map<string, string>();
      // ntfs-3g hides the metadata files ($MFT, ...) at the root.
      for (const e of listTree(volume, '/', false)) if (e.type === 'file' && !e.path.startsWith('/$')) ours.set(e.path, `${e.size}\t${sha(readAll(volume.openFile(e), 1 << 20))}`);
      expect(theirs.size).toBeGreaterThan(20);
      expect(new Map([...ours].sort())).toEqual(new Map([...theirs].sort()));
    } finally {
      volume.close();
    }
  });

  it('copies the tree out through openFile exactly as tsk_recover -a writes it (names, sizes, bytes)', () => {
    const out = mkdtempSync(join(dir, 'recover-'));
    execFileSync('tsk_recover', ['-a', image, out], { stdio: 'ignore' });
    const theirs = new Map<string, string>();
    const walkHost = (d: string, rel: string): void => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (`${rel}/${name}` === '/holes') continue;
        if (statSync(p).isDirectory()) walkHost(p, `${rel}/${name}`);
        else theirs.set(`${rel}/${name}`, `${statSync(p).size}\t${sha(readFileSync(p))}`);
      }
    };
    walkHost(out, '');
    const volume = open();
    try {
      const ours = new Map<string, string>();
      for (const e of listTree(volume, '/', false)) {
        if (e.type !== 'file' || e.path.startsWith('/$')) continue;
        ours.set(shown(e.path), `${e.size}\t${sha(readAll(volume.openFile(e), 1 << 20))}`);
      }
      expect(theirs.size).toBeGreaterThan(20);
      expect(new Map([...ours].sort())).toEqual(new Map([...theirs].sort()));
    } finally {
      volume.close();
    }
  });

  it('info matches fsstat: label, serial number, cluster and record sizes, MFT location', () => {
    const text = execFileSync('fsstat', [image], { encoding: 'utf8' });
    const field = (name: string): string => new RegExp(`^${name}: (.*)$`, 'm').exec(text)![1]!.trim();
    const volume = open();
    try {
      const info = volume.info();
      expect(info.format).toBe('ntfs');
      expect(info.label).toBe(field('Volume Name'));
      expect(info.serialNumber).toBe(field('Volume Serial Number'));
      expect(info.clusterSize).toBe(Number(field('Cluster Size')));
      expect(info.mftRecordSize).toBe(Number(field('Size of MFT Entries').split(' ')[0]));
      expect(info.mftCluster).toBe(Number(field('First Cluster of MFT')));
      expect(info.totalBytes).toBe((Number(field('Total Cluster Range').split(' - ')[1]) + 1) * Number(field('Cluster Size')));
      expect(info.usedBytes + info.freeBytes).toBe(info.totalBytes);
      expect(info.details.map((d) => d.label)).toContain('MFT record size');
    } finally {
      volume.close();
    }
  });

  it('names compare through $UpCase; DOS attributes come from $STANDARD_INFORMATION', () => {
    const volume = open();
    try {
      expect(volume.stat('/DIR/SUB/NESTED.TXT').path).toBe('/dir/sub/nested.txt');
      expect(volume.nameKey('grüße-日本.txt')).toBe(volume.nameKey('GRÜßE-日本.TXT'));
      expect(volume.nameKey('é')).toBe('É');
      expect(volume.stat('/hidden.txt').attributes).toContain('hidden');
      expect(volume.stat('/system.txt').attributes).toContain('system');
      expect(volume.stat('/hello.txt').attributes).not.toContain('hidden');
    } finally {
      volume.close();
    }
  });

  it('offers raw extents for plain files only; others read through openFile', () => {
    const volume = open();
    try {
      const plain = volume.stat('/dir/plain.bin');
      const extents = rawExtentsOf(volume, plain)!;
      const bytes = Buffer.concat(extents.map((e) => execFileSync('dd', [`if=${image}`, 'bs=4096', `skip=${e.position / 4096}`, `count=${Math.ceil(e.length / 4096)}`, 'status=none'], { maxBuffer: 1 << 28 }).subarray(0, e.length)));
      expect(sha(bytes)).toBe(sha(readAll(volume.openFile(plain))));
      for (const path of ['/compressed/text.txt', '/sparse.bin', '/hello.txt']) {
        expect(() => volume.fileExtents(path)).toThrowError(expect.objectContaining({ code: ErrorCode.UNSUPPORTED }));
        expect(rawExtentsOf(volume, path)).toBeNull();
      }
    } finally {
      volume.close();
    }
  });

  it('refuses every write with E_READ_ONLY naming NTFS', () => {
    const volume = open();
    try {
      for (const write of [() => volume.writeFile('/x', new Uint8Array(1)), () => volume.mkdir('/d'), () => volume.remove('/hello.txt'), () => volume.rename('/hello.txt', '/y')]) {
        let caught: unknown;
        try {
          write();
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(DiskkitError);
        expect((caught as DiskkitError).code).toBe(ErrorCode.READ_ONLY);
        expect((caught as DiskkitError).message).toMatch(/NTFS/);
      }
      expect(volume.capabilities.writable).toBe(false);
      expect(volume.capabilities.formatWritable).toBe(false);
    } finally {
      volume.close();
    }
  });

  it('LZNT1: the first compression unit of a real compressed file decompresses to icat\'s bytes', () => {
    const address = fls().find((r) => r.path === '/compressed/text.txt')!.address.split('-')[0]!;
    // istat lists the file's clusters, 0 for sparse: the first unit is its first 16.
    const clusters = execFileSync('istat', [image, address], { encoding: 'utf8' }).split(/Non-Resident, Compressed[^\n]*\n/)[1]!.trim().split(/\s+/).map(Number);
    const unit = clusters.slice(0, 16);
    const stored = unit.indexOf(0) < 0 ? 16 : unit.indexOf(0);
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(16);
    const packed = Buffer.concat(unit.slice(0, stored).map((c) => execFileSync('dd', [`if=${image}`, 'bs=4096', `skip=${c}`, 'count=1', 'status=none'])));
    const out = new Uint8Array(65536);
    decompressLznt1(packed, 0, packed.length, out, 0, out.length);
    expect(sha(out)).toBe(sha(icat(address).subarray(0, 65536)));
    // Corrupt input only ever raises DiskkitError.
    const broken = Buffer.from(packed);
    broken[2] ^= 0xff;
    broken[3] ^= 0xff;
    let outcome: unknown;
    try {
      outcome = decompressLznt1(broken, 0, broken.length, out, 0, out.length);
    } catch (error) {
      outcome = error;
    }
    expect(outcome instanceof DiskkitError || (typeof outcome === 'number' && outcome <= out.length)).toBe(true);
  });

  it('mutated images (seeded, MFT records and directory index blocks) only ever raise DiskkitError', () => {
    const pristine = readFileSync(image);
    const bytes = new Uint8Array(pristine);
    const mft = locateMft(new MemoryBlockSource(bytes)).extents[0]!;
    // Index blocks of the directories with an $INDEX_ALLOCATION: fls names none, so take them from istat.
    const indexClusters: number[] = [];
    for (const row of fls().filter((r) => r.type === 'dir' && !r.deleted)) {
      const text = execFileSync('istat', [image, row.address.split('-')[0]!], { encoding: 'utf8' });
      const m = /\$INDEX_ALLOCATION[^\n]*\n([\d\s]+)/.exec(text);
      if (m) indexClusters.push(...m[1]!.trim().split(/\s+/).map(Number).filter((c) => c > 0));
    }
    const random = seededRandom(0x4e544653);
    const mftUsed = Math.min(mft.length, 120 * 1024);
    let failures = 0;
    for (let round = 0; round < 120; round++) {
      const saved: [number, number][] = [];
      const flips = 1 + Math.floor(random() * 8);
      for (let i = 0; i < flips; i++) {
        const inIndex = indexClusters.length > 0 && random() < 0.25;
        const at = inIndex
          ? indexClusters[Math.floor(random() * indexClusters.length)]! * 4096 + Math.floor(random() * 4096)
          : mft.position + Math.floor(random() * mftUsed);
        saved.push([at, bytes[at]!]);
        bytes[at] = random() < 0.5 ? Math.floor(random() * 256) : bytes[at]! ^ (1 << Math.floor(random() * 8));
      }
      try {
        const volume = NtfsVolume.open(new MemoryBlockSource(bytes));
        volume.info();
        const files: string[] = [];
        // Deleted entries take an MFT pass: every tenth round.
        volume.walk('/', { recursive: true, deleted: round % 10 === 0 }, {
          directory() {},
          entry(e) {
            if (e.type === 'file' && !e.deleted) files.push(e.parent === '/' ? `/${e.name}` : `${e.parent}/${e.name}`);
            return e.type === 'dir';
          },
          error(_path, _depth, error) {
            if (!(error instanceof DiskkitError)) throw error;
          },
        });
        const buf = new Uint8Array(65536);
        for (const path of files) {
          try {
            const file = volume.openFile(path);
            file.read(buf, Math.min(file.size, buf.length), 0);
            if (file.size > 4096) file.read(buf, 4096, file.size - 4096);
          } catch (error) {
            if (!(error instanceof DiskkitError)) throw error;
          }
        }
      } catch (error) {
        if (!(error instanceof DiskkitError)) {
          failures++;
          throw new Error(`round ${round}: ${String(error)}`, { cause: error });
        }
      } finally {
        for (const [at, value] of saved.reverse()) bytes[at] = value;
      }
    }
    expect(failures).toBe(0);
  });

  it('CLI: ls -R --json lists what fls -r -p lists; ls --streams adds NAME:STREAM rows; write commands exit 1 with E_READ_ONLY and leave the image alone', async () => {
    const rows = fls().filter((r) => !r.deleted);
    const r = await diskkit(['--json', 'ls', '-R', '-a', '--streams', `${image}:/`]);
    expect(r.exitCode, r.stderr).toBe(0);
    const listed = (JSON.parse(r.stdout) as { path: string; type: string; size: number }[]).filter((e) => !e.path.startsWith('/holes/')).map((e) => `${shown(e.path)}\t${e.type}\t${e.type === 'dir' ? 0 : e.size}`);
    const expected = rows.map((row) => `${row.path}\t${row.type}\t${row.type === 'dir' ? 0 : row.size}`);
    // fls lists every named attribute as NAME:ATTR (metadata index attributes such as
    // $Secure:$SDH too); diskkit lists named $DATA streams only, and lists metadata
    // files fls shows only through their attributes.
    const metadataAttribute = (line: string): boolean => line.startsWith('/$') && line.split('\t')[0]!.split('/').pop()!.includes(':');
    expect(expected.filter((line) => !listed.includes(line) && !metadataAttribute(line))).toEqual([]);
    expect(listed.filter((line) => !expected.includes(line)).every((line) => line.startsWith('/$'))).toBe(true);
    const before = sha(readFileSync(image));
    for (const args of [['mkdir', `${image}:/new`], ['rm', `${image}:/hello.txt`], ['cp', image, `${image}:/copy`]]) {
      const w = await diskkit(args);
      expect(w.exitCode, args.join(' ')).toBe(1);
      expect(w.stderr).toMatch(/NTFS.* read-only/);
    }
    expect(sha(readFileSync(image))).toBe(before);
  });

  it('bytes past the initialized size read as zeros (record edited: plain.bin initialized to 100,000 bytes), as icat reads them', () => {
    const edited = join(dir, 'init-size.ntfs');
    const bytes = new Uint8Array(readFileSync(image));
    const address = Number(fls().find((r) => r.path === '/dir/plain.bin')!.address.split('-')[0]);
    const mft = locateMft(new MemoryBlockSource(bytes));
    const at = mft.extents[0]!.position + address * mft.recordSize;
    // Walk the record's attributes to the unnamed $DATA (type 0x80) and lower its initialized size (non-resident header 0x38).
    let p = at + (bytes[at + 0x14]! | (bytes[at + 0x15]! << 8));
    while ((bytes[p]! | (bytes[p + 1]! << 8)) !== 0x80) p += bytes[p + 4]! | (bytes[p + 5]! << 8);
    expect(bytes[p + 8]).toBe(1);
    new DataView(bytes.buffer).setBigUint64(p + 0x38, 100_000n, true);
    execFileSync('dd', [`of=${edited}`, 'status=none'], { input: bytes });
    const expected = execFileSync('icat', [edited, String(address)], { maxBuffer: 1 << 28 });
    expect(expected.subarray(100_000).every((b) => b === 0)).toBe(true);
    const volume = NtfsVolume.open(FileBlockSource.open(edited));
    try {
      const file = volume.openFile('/dir/plain.bin');
      expect(file.size).toBe(300_000);
      expect(sha(readAll(file, 65_537))).toBe(sha(expected));
      expect(rawExtentsOf(volume, '/dir/plain.bin')).toBeNull();
    } finally {
      volume.close();
    }
  });

  it('reads the volume inside a partitioned disk image (MBR, NTFS partition at 1 MiB) like the bare image', async () => {
    const disk = join(dir, 'disk.img');
    execFileSync('sh', ['-c', `truncate -s 1M ${disk} && cat ${image} >> ${disk} && truncate -s +1M ${disk} && echo 'start=2048, type=7' | sfdisk -q ${disk}`]);
    const bare = await diskkit(['--json', 'ls', '-R', `${image}:/dir`]);
    const inDisk = await diskkit(['--json', 'ls', '-R', `${disk}:/dir`]);
    expect(inDisk.exitCode, inDisk.stderr).toBe(0);
    expect(inDisk.stdout).toBe(bare.stdout);
    const info = await diskkit(['--json', 'info', disk]);
    expect(JSON.parse(info.stdout).label).toBe('diskkit-read');
  });

  it('CLI: cat in every read mode equals icat (compressed, sparse, fragmented in extension records, resident, ADS)', async () => {
    const rows = fls();
    const address = (path: string): string => rows.find((r) => r.path === path)!.address;
    for (const path of ['/compressed/mixed.bin', '/sparse.bin', '/fragmented.bin', '/hello.txt', '/ads.txt:big']) {
      const expected = sha(icat(path.includes(':') ? address(path) : address(path).split('-')[0]!));
      // Every mode on the compressed file, two on the others (each run is a process).
      for (const mode of path === '/compressed/mixed.bin' ? ['streaming', 'prefetch', 'pipelined', 'parallel', 'mmap'] : ['streaming', 'parallel']) {
        const r = await diskkitBytes(['cat', '--mode', mode, `${image}:${path}`]);
        expect(r.exitCode, `${path} ${mode}: ${Buffer.from(r.stderr).toString()}`).toBe(0);
        expect(sha(r.stdout), `${path} ${mode}`).toBe(expected);
      }
    }
  }, 300_000);

  it('CLI: cp -r out of the volume writes what tsk_recover -a writes (plus the metadata files; unsafe names renamed)', async () => {
    const theirs = mkdtempSync(join(dir, 'tsk-'));
    execFileSync('tsk_recover', ['-a', image, theirs], { stdio: 'ignore' });
    const ours = join(mkdtempSync(join(dir, 'cp-')), 'out');
    const r = await diskkit(['cp', '-r', `${image}:/`, ours]);
    expect(r.exitCode, r.stderr).toBe(0);
    const tree = (root: string): Map<string, string> => {
      const out = new Map<string, string>();
      const walk = (d: string, rel: string): void => {
        for (const name of readdirSync(d)) {
          const p = join(d, name);
          if (statSync(p).isDirectory()) walk(p, `${rel}/${name}`);
          else out.set(`${rel}/${name}`, `${statSync(p).size}\t${sha(readFileSync(p))}`);
        }
      };
      walk(root, '');
      return out;
    };
    // diskkit's safe renames of the two unsafe names, as its warnings say; TSK writes them with '\\' and '^'.
    const renamed = new Map([['/dir/back_slash.txt', '/dir/back\\slash.txt'], ['/dir/ctl_char.txt', '/dir/ctl^char.txt']]);
    expect(r.stderr).toMatch(/written as 'back_slash.txt'/);
    const mine = new Map([...tree(ours)].filter(([p]) => !p.startsWith('/$')).map(([p, v]) => [renamed.get(p) ?? p, v]));
    const expected = new Map([...tree(theirs)].filter(([p]) => !p.startsWith('/holes/')));
    expect(new Map([...mine].sort())).toEqual(new Map([...expected].sort()));
  });
});

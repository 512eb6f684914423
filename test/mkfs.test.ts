/**
 * `diskkit mkfs`, through the built CLI, checked against the real tools: fsck.fat -n
 * must find nothing to say, minfo must read the layout diskkit reports, mtools must
 * be able to write and read a file, and the default layout must be the one mkfs.fat
 * picks for the same size. All images are sparse files in a temporary directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';

const haveMtools = requireTools('fsck.fat', 'minfo', 'mdir', 'mcopy', 'mtype');
const haveMkfsFat = requireTools('mkfs.fat', 'minfo', 'fsck.fat');

let dir: string;
let counter = 0;
const fresh = (name: string) => join(dir, `${++counter}-${name}.img`);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-mkfs-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Layout {
  fatType: string;
  bytesPerSector: number;
  sectorsPerCluster: number;
  bytesPerCluster: number;
  reservedSectors: number;
  numberOfFats: number;
  sectorsPerFat: number;
  rootEntryCount: number;
  totalSectors: number;
  hiddenSectors: number;
  media: number;
  sectorsPerTrack: number;
  numberOfHeads: number;
  clusterCount: number;
  firstDataSector: number;
  volumeId: string;
  label: string | null;
  warnings: { message: string }[];
}

async function mkfsJson(image: string, args: string[], env: Record<string, string> = {}, globalArgs: string[] = []): Promise<Layout> {
  const r = await diskkit(['--json', ...globalArgs, 'mkfs', image, ...args], { env });
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout) as Layout;
}

/** minfo's "key: value" and "key=value" lines as a map (the mformat line and blank lines dropped). */
async function minfo(image: string): Promise<Map<string, string>> {
  const r = await execa('minfo', ['-i', image, '::'], { reject: false, env: { MTOOLS_SKIP_CHECK: '0' } });
  expect(r.exitCode).toBe(0);
  const map = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^([^:=]+?)\s*[:=]\s*(.*)$/.exec(line.trim());
    if (m && !line.includes('mformat')) map.set(m[1]!, m[2]!.replace(/"/g, '').trim());
  }
  return map;
}

/** fsck.fat -n: exit 0 and nothing but its banner and the one-line summary. Returns the summary's cluster counts. */
async function fsckClean(image: string): Promise<{ used: number; total: number }> {
  const r = await execa('fsck.fat', ['-n', image], { reject: false });
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  expect({ exit: r.exitCode, stderr: r.stderr, lines: lines.length }).toEqual({ exit: 0, stderr: '', lines: 2 });
  expect(lines[0]).toMatch(/^fsck\.fat \d/);
  const summary = /: (\d+) files, (\d+)\/(\d+) clusters$/.exec(lines[1]!);
  expect(summary, lines[1]).not.toBeNull();
  return { used: Number(summary![2]), total: Number(summary![3]) };
}

/*
 * Two combinations are left out because mtools 4.0.32 fails on them whatever made the
 * image (mkfs.fat's images fail the same way): mcopy corrupts floppy-sized FAT12 with
 * 2048- or 4096-byte sectors, and minfo aborts on 32 MiB with 2048-byte sectors.
 */
const SIZES: [size: string, sectorSize: number, fatType: string][] = [
  ['1.44M', 512, 'fat12'],
  ['1.44M', 1024, 'fat12'],
  ['32M', 512, 'fat16'],
  ['32M', 1024, 'fat16'],
  ['48M', 2048, 'fat16'],
  ['32M', 4096, 'fat12'],
  ['512M', 512, 'fat32'],
  ['2G', 512, 'fat32'],
  ['2G', 4096, 'fat32'],
  ['32G', 512, 'fat32'],
  ['32G', 2048, 'fat32'],
];

describe.concurrent('images made by mkfs pass fsck.fat, minfo, mdir, mcopy and mtype', () => {
  it.runIf(haveMtools).each(SIZES)('--size %s --sector-size %i makes a %s image they all accept', async (size, sectorSize, fatType) => {
    const image = fresh(`${size}-${sectorSize}`);
    const layout = await mkfsJson(image, ['--size', size, '--sector-size', String(sectorSize), '--label', 'Test Vol']);
    expect(layout.fatType).toBe(fatType);
    expect(layout.bytesPerSector).toBe(sectorSize);
    // Sparse: the file has the requested size but next to no blocks.
    const st = statSync(image);
    expect(st.size).toBe(size === '1.44M' ? 1440 * 1024 : Number.parseInt(size) * 2 ** (size.endsWith('G') ? 30 : 20));
    expect(layout.totalSectors * sectorSize).toBeLessThanOrEqual(st.size);
    expect(st.blocks * 512).toBeLessThan(1024 * 1024);

    const check = await fsckClean(image);
    expect(check).toEqual({ used: fatType === 'fat32' ? 1 : 0, total: layout.clusterCount });

    const mi = await minfo(image);
    expect(Number(mi.get('sector size')!.split(' ')[0])).toBe(layout.bytesPerSector);
    expect(Number(mi.get('cluster size')!.split(' ')[0])).toBe(layout.sectorsPerCluster);
    expect(Number(mi.get('reserved (boot) sectors'))).toBe(layout.reservedSectors);
    expect(Number(mi.get('fats'))).toBe(layout.numberOfFats);
    expect(Number(mi.get('max available root directory slots'))).toBe(layout.rootEntryCount);
    const total = Number(mi.get('small size')!.split(' ')[0]) || Number(mi.get('big size')!.split(' ')[0]);
    expect(total).toBe(layout.totalSectors);
    const fatSize = fatType === 'fat32' ? Number(mi.get('Big fatlen')) : Number(mi.get('sectors per fat'));
    expect(fatSize).toBe(layout.sectorsPerFat);
    expect(parseInt(mi.get('media descriptor byte')!, 16)).toBe(layout.media);
    expect(Number(mi.get('sectors per track'))).toBe(layout.sectorsPerTrack);
    expect(Number(mi.get('heads'))).toBe(layout.numberOfHeads);
    expect(Number(mi.get('hidden sectors'))).toBe(0);
    expect(mi.get('serial number')).toBe(layout.volumeId.replace('-', ''));
    expect(mi.get('disk label')).toBe('TEST VOL');
    expect(mi.get('disk type')).toBe(fatType.toUpperCase());
    if (fatType === 'fat32') {
      expect(mi.get('rootCluster')).toBe('2');
      expect(mi.get('infoSector location')).toBe('1');
      expect(mi.get('backup boot sector')).toBe('6');
      expect(Number(mi.get('free clusters'))).toBe(layout.clusterCount - 1);
    }
    // diskkit's own reader agrees with what mkfs reported (and so with minfo).
    const info = JSON.parse((await diskkit(['--json', 'info', image])).stdout);
    expect([info.fatType, info.bytesPerSector, info.sectorsPerCluster, info.reservedSectors, info.numberOfFats, info.sectorsPerFat, info.totalSectors, info.firstDataSector, info.clusters.total, info.clusters.used, info.label, info.volumeId]).toEqual([
      fatType.toUpperCase(), layout.bytesPerSector, layout.sectorsPerCluster, layout.reservedSectors, layout.numberOfFats, layout.sectorsPerFat, layout.totalSectors, layout.firstDataSector, layout.clusterCount, fatType === 'fat32' ? 1 : 0, 'TEST VOL', layout.volumeId,
    ]);
    // The data region starts on a cluster boundary (volumes over 8192 sectors).
    if (layout.totalSectors > 8192) expect(layout.firstDataSector % layout.sectorsPerCluster).toBe(0);

    const dirListing = await execa('mdir', ['-i', image, '::'], { reject: false });
    expect(dirListing.exitCode).toBe(0);
    expect(dirListing.stdout).toContain('Volume in drive : is TEST VOL');
    expect(dirListing.stdout).toContain(`Volume Serial Number is ${layout.volumeId}`);

    const payload = Buffer.from(`hello from ${size}/${sectorSize}\n`.repeat(700));
    const host = `${image}.payload`;
    writeFileSync(host, payload);
    expect((await execa('mcopy', ['-i', image, host, '::/HELLO.TXT'], { reject: false })).exitCode).toBe(0);
    const back = await execa('mtype', ['-i', image, '::/HELLO.TXT'], { reject: false, encoding: 'buffer', stripFinalNewline: false });
    expect(Buffer.compare(Buffer.from(back.stdout), payload)).toBe(0);
    const after = await fsckClean(image);
    expect(after.used).toBe((fatType === 'fat32' ? 1 : 0) + Math.ceil(payload.length / layout.bytesPerCluster));
  });
});

/**
 * Sizes in KiB (mkfs.fat's unit) and sector sizes spanning floppies, FAT12, FAT16 and
 * each FAT32 cluster-size step, including the sizes on both sides of each threshold.
 */
const COMPARED: [kib: number, sectorSize: number][] = [
  [360, 512], [720, 512], [1200, 512], [1440, 512], [2880, 512],
  [1000, 512], [8192, 512], [16384, 512], [100000, 512], [262144, 512], [524287, 512],
  [524288, 512], [2097152, 512], [8388609, 512], [16777217, 512], [33554432, 512], [33554433, 512],
  [32768, 4096], [1048576, 2048], [4194304, 4096],
];

/** BPB facts that make the layout; the banner, serial number, label and file name may differ. */
const IGNORED_MINFO_KEYS = new Set(['filename', 'banner', 'serial number', 'disk label']);

describe.concurrent('default layout matches mkfs.fat (dosfstools 4.2)', () => {
  it.runIf(haveMkfsFat).each(COMPARED)('%i KiB with %i-byte sectors', async (kib, sectorSize) => {
    const theirs = fresh(`ref-${kib}-${sectorSize}`);
    const ours = fresh(`ours-${kib}-${sectorSize}`);
    const made = await execa('mkfs.fat', ['-C', '-S', String(sectorSize), theirs, String(kib)], { reject: false });
    expect(made.exitCode).toBe(0);
    await mkfsJson(ours, ['--size', `${kib}K`, '--sector-size', String(sectorSize)]);
    const [a, b] = [await minfo(theirs), await minfo(ours)];
    for (const key of IGNORED_MINFO_KEYS) {
      a.delete(key);
      b.delete(key);
    }
    expect(Object.fromEntries(b)).toEqual(Object.fromEntries(a));
    expect(await fsckClean(ours)).toEqual(await fsckClean(theirs));
  });
});

describe.concurrent('reproducible output', () => {
  it('--invariant twice gives byte-identical images', async () => {
    const [a, b] = [fresh('inv-a'), fresh('inv-b')];
    await mkfsJson(a, ['--size', '40M', '--label', 'SAME', '--invariant']);
    await mkfsJson(b, ['--size', '40M', '--label', 'SAME', '--invariant']);
    const r = await execa('cmp', [a, b], { reject: false });
    expect(r.exitCode).toBe(0);
  });

  it('SOURCE_DATE_EPOCH fixes the volume id and label time; another epoch changes them', async () => {
    const [a, b, c] = [fresh('sde-a'), fresh('sde-b'), fresh('sde-c')];
    const args = ['--size', '40M', '--type', 'fat32', '--label', 'E'];
    const la = await mkfsJson(a, args, { SOURCE_DATE_EPOCH: '1700000000' });
    const lb = await mkfsJson(b, args, { SOURCE_DATE_EPOCH: '1700000000' });
    const lc = await mkfsJson(c, args, { SOURCE_DATE_EPOCH: '1600000000' });
    expect((await execa('cmp', [a, b], { reject: false })).exitCode).toBe(0);
    expect(la.volumeId).toBe(lb.volumeId);
    expect(lc.volumeId).not.toBe(la.volumeId);
    expect((await execa('cmp', [a, c], { reject: false })).exitCode).toBe(1);
  });

  it('without them, two images get different random volume ids', async () => {
    const a = await mkfsJson(fresh('rand-a'), ['--size', '8M']);
    const b = await mkfsJson(fresh('rand-b'), ['--size', '8M']);
    expect(a.volumeId).not.toBe(b.volumeId);
  });

  it('--volume-id sets the serial number exactly', async () => {
    const image = fresh('volid');
    const layout = await mkfsJson(image, ['--size', '8M', '--volume-id', 'dead-BEEF']);
    expect(layout.volumeId).toBe('DEAD-BEEF');
    const sector = Buffer.alloc(512);
    const fd = openSync(image, 'r');
    readSync(fd, sector, 0, 512, 0);
    closeSync(fd);
    expect(sector.readUInt32LE(39)).toBe(0xdeadbeef); // BS_VolID of a FAT12/16 boot sector
  });
});

describe.concurrent('explicit type and cluster size', () => {
  it.runIf(haveMtools)('--type fat32 --cluster-size 512 on 64 MiB gives FAT32 with 1-sector clusters that fsck accepts', async () => {
    const image = fresh('forced32');
    const layout = await mkfsJson(image, ['--size', '64M', '--type', 'fat32', '--cluster-size', '512']);
    expect([layout.fatType, layout.sectorsPerCluster]).toEqual(['fat32', 1]);
    expect((await fsckClean(image)).total).toBe(layout.clusterCount);
    expect(Number((await minfo(image)).get('cluster size')!.split(' ')[0])).toBe(1);
  });

  it.runIf(haveMtools)('--fats 1 and 64 KiB clusters work, with a compatibility caveat', async () => {
    const image = fresh('fats1');
    const layout = await mkfsJson(image, ['--size', '2G', '--type', 'fat16', '--cluster-size', '64K', '--fats', '1']);
    expect([layout.fatType, layout.numberOfFats, layout.bytesPerCluster]).toEqual(['fat16', 1, 65536]);
    expect(layout.warnings.map((w) => w.message).join(' ')).toMatch(/64 KiB clusters.*MS-DOS/);
    expect((await fsckClean(image)).total).toBe(layout.clusterCount);
  });
});

describe.concurrent('refusals', () => {
  const rejects: [what: string, args: string[], message: RegExp][] = [
    ['FAT32 with too few clusters', ['--size', '32M', '--type', 'fat32'], /FAT32 needs at least 65525 clusters.*\n.*--type fat16/],
    ['FAT16 too large', ['--size', '8G', '--type', 'fat16'], /FAT16 holds at most 65524 clusters.*\n.*--type fat32/],
    ['FAT12 too large', ['--size', '300M', '--type', 'fat12'], /FAT12 holds at most 4084 clusters.*\n.*--type fat16/],
    ['clusters too small for FAT16 at this size', ['--size', '400M', '--type', 'fat16', '--cluster-size', '512'], /FAT16 holds at most 65524.*\n.*--cluster-size 8192\.\.65536/],
    ['cluster size over 64 KiB', ['--size', '1G', '--cluster-size', '128K'], /cluster size 128 KiB is too large/],
    ['cluster size not a power of two', ['--size', '1G', '--cluster-size', '3000'], /power of two/],
    ['a volume too small for any FAT', ['--size', '20K'], /too small for a FAT file system.*\n.*--size \d+K or more/],
    ['an unknown sector size', ['--size', '1G', '--sector-size', '600'], /--sector-size must be 512, 1024, 2048 or 4096/],
    ['an unknown type', ['--size', '1G', '--type', 'exfat'], /unknown format 'exfat' \(known: .*\bfat\b/],
    ['a FAT variant that does not exist', ['--size', '1G', '--type', 'fat64'], /unknown format 'fat64'/],
    ['a malformed size', ['--size', '12Q'], /not a size/],
    ['a label too long', ['--size', '8M', '--label', 'TWELVE CHARS'], /at most 11/],
    ['a label with forbidden characters', ['--size', '8M', '--label', 'A*B'], /the characters \* are not allowed/],
    ['a bad volume id', ['--size', '8M', '--volume-id', 'xyz'], /--volume-id takes up to 8 hex digits/],
    ['no size for a new image', [], /--size is required/],
  ];
  it('a format that cannot make file systems (NTFS is read-only): E_UNSUPPORTED naming it, exit 1, no file left', async () => {
    const image = fresh('ntfs');
    const r = await diskkit(['mkfs', image, '--size', '1G', '--type', 'ntfs']);
    expect([r.exitCode, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toMatch(/^diskkit: .*NTFS.* does not support mkfs/);
    expect(existsSync(image)).toBe(false);
  });

  it.each(rejects)('%s: exit 2, a reason and what would work, no file left', async (_what, args, message) => {
    const image = fresh('refused');
    const r = await diskkit(['mkfs', image, ...args]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^diskkit: /);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(existsSync(image)).toBe(false);
  });

  it('refuses to overwrite a non-empty file without --force (exit 1, file untouched)', async () => {
    const image = fresh('existing');
    writeFileSync(image, 'precious');
    const r = await diskkit(['mkfs', image, '--size', '8M']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/already exists and is not empty/);
    expect(r.stderr).toMatch(/--force/);
    expect(readFileSync(image, 'utf8')).toBe('precious');
  });

  it('formats an existing empty file without --force', async () => {
    const image = fresh('empty');
    writeFileSync(image, '');
    const layout = await mkfsJson(image, ['--size', '8M']);
    expect(statSync(image).size).toBe(8 * 2 ** 20);
    expect(layout.fatType).toBe('fat12');
  });

  it.runIf(haveMtools)('--force formats in place: old FATs and root entries are zeroed, the data region is left alone', async () => {
    const image = fresh('inplace');
    const size = 16 * 2 ** 20;
    // An image full of 0xE7 garbage: were any metadata sector left unwritten, fsck would see it.
    const fd = openSync(image, 'w');
    const junk = Buffer.alloc(2 ** 20, 0xe7);
    for (let i = 0; i < size / junk.length; i++) writeSync(fd, junk, 0, junk.length, i * junk.length);
    closeSync(fd);
    const layout = await mkfsJson(image, ['--force']);
    expect(layout.totalSectors * 512).toBeLessThanOrEqual(size);
    expect(statSync(image).size).toBe(size);
    expect(await fsckClean(image)).toEqual({ used: 0, total: layout.clusterCount });
    const mdir = await execa('mdir', ['-i', image, '::'], { reject: false });
    expect([mdir.exitCode, mdir.stdout]).toEqual([0, expect.stringContaining('No files')]);
    const probe = Buffer.alloc(16);
    const rd = openSync(image, 'r');
    readSync(rd, probe, 0, 16, (layout.firstDataSector + 4) * 512);
    closeSync(rd);
    expect(probe.every((b) => b === 0xe7)).toBe(true);
  });
});

describe.concurrent('--partition N formats one partition of a disk image in place', () => {
  const havePartitionTools = requireTools('sfdisk', 'fsck.fat', 'minfo', 'mdir');
  const P1 = { start: 2048, sectors: 65536 };
  const P2 = { start: 67584, sectors: 300000 };

  /** A 200 MiB sparse disk with two MBR partitions. */
  async function partitionedDisk(): Promise<string> {
    const disk = fresh('disk');
    const fd = openSync(disk, 'w');
    closeSync(fd);
    await execa('truncate', ['-s', '200M', disk]);
    const table = `start=${P1.start}, size=${P1.sectors}, type=6\nstart=${P2.start}, size=${P2.sectors}, type=c\n`;
    expect((await execa('sfdisk', ['-q', disk], { input: table, reject: false })).exitCode).toBe(0);
    return disk;
  }

  /** fsck.fat -n of one partition, copied out first (fsck.fat takes no offset). */
  async function fsckPartition(disk: string, part: { start: number; sectors: number }) {
    const copy = `${disk}.${part.start}`;
    const bytes = Buffer.alloc(part.sectors * 512);
    const fd = openSync(disk, 'r');
    readSync(fd, bytes, 0, bytes.length, part.start * 512);
    closeSync(fd);
    writeFileSync(copy, bytes);
    return fsckClean(copy);
  }

  it.runIf(havePartitionTools)('formats each partition with hidden sectors = its start; the table and the other partition survive', async () => {
    const disk = await partitionedDisk();
    const tableBefore = (await execa('sfdisk', ['-d', disk])).stdout;
    const one = await mkfsJson(disk, ['--label', 'PART1'], {}, ['--partition', '1']);
    const two = await mkfsJson(disk, ['--label', 'PART2', '--type', 'fat32'], {}, ['--partition', '2']);
    expect([one.fatType, one.hiddenSectors, one.totalSectors]).toEqual(['fat16', P1.start, P1.sectors]);
    expect([two.fatType, two.hiddenSectors, two.totalSectors]).toEqual(['fat32', P2.start, P2.sectors]);
    expect((await execa('sfdisk', ['-d', disk])).stdout).toBe(tableBefore);
    expect(await fsckPartition(disk, P1)).toEqual({ used: 0, total: one.clusterCount });
    expect(await fsckPartition(disk, P2)).toEqual({ used: 1, total: two.clusterCount });
    const mi = await minfo(`${disk}@@${P1.start * 512}`);
    expect([mi.get('hidden sectors'), mi.get('disk label')]).toEqual([String(P1.start), 'PART1']);
    const listing = await execa('mdir', ['-i', `${disk}@@${P2.start * 512}`, '::'], { reject: false });
    expect(listing.stdout).toContain('Volume in drive : is PART2');
    const info = JSON.parse((await diskkit(['--json', '--partition', '1', 'info', disk])).stdout);
    expect([info.fatType, info.label, info.hiddenSectors]).toEqual(['FAT16', 'PART1', P1.start]);
  });

  it.runIf(havePartitionTools)('refuses a partition that already holds a file system without --force, and a partition that does not exist', async () => {
    const disk = await partitionedDisk();
    await mkfsJson(disk, [], {}, ['--partition', '1']);
    const again = await diskkit(['--partition', '1', 'mkfs', disk]);
    expect([again.exitCode, again.stderr]).toEqual([1, expect.stringMatching(/partition 1 already holds a FAT file system[^]*--force/)]);
    const forced = await diskkit(['--partition', '1', 'mkfs', disk, '--force']);
    expect(forced.exitCode).toBe(0);
    const missing = await diskkit(['--partition', '3', 'mkfs', disk]);
    expect([missing.exitCode, missing.stderr]).toEqual([1, expect.stringMatching(/no partition 3; MBR partitions: 1: start 1048576/)]);
  });
});

describe.concurrent('labels', () => {
  it.runIf(haveMtools)('lower case is stored upper-cased, in the boot sector and the root directory, with a note', async () => {
    const image = fresh('label');
    const r = await diskkit(['mkfs', image, '--size', '3M', '--label', 'my disk']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/upper case as 'MY DISK'/);
    expect((await minfo(image)).get('disk label')).toBe('MY DISK');
    const mdir = await execa('mlabel', ['-i', image, '-s', '::'], { reject: false });
    expect(mdir.stdout).toContain('Volume label is MY DISK');
    await fsckClean(image);
  });

  it('--json prints one JSON document and nothing on stderr', async () => {
    const r = await diskkit(['--json', 'mkfs', fresh('json'), '--size', '3M', '--label', 'lower']);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout);
    expect([doc.label, doc.labelUpperCased, doc.fatType]).toEqual(['LOWER', true, 'fat12']);
  });
});

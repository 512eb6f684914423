/**
 * The format seam (issue 10): a throwaway in-memory format, registered by the test
 * alone (test/helpers/memory-format.mjs, loaded through DISKKIT_EXTRA_FORMAT_MODULE),
 * is listed, read in every read mode, copied out, described by `info` and benched by
 * the real commands, none of which knows it; write commands on it fail with
 * E_READ_ONLY; and `cp` copies between images of different formats (memfs -> FAT,
 * FAT12 -> FAT32), checked with mtools and fsck.fat -n.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { diskkit, diskkitBytes } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { expectFsckClean, freshDir, makeImage, mtoolsTree, readHostTree } from './helpers/fat-write.js';
import { execa } from 'execa';

const FORMAT_MODULE = fileURLToPath(new URL('./helpers/memory-format.mjs', import.meta.url));
const ENV = { DISKKIT_EXTRA_FORMAT_MODULE: FORMAT_MODULE };
const MODES = ['streaming', 'prefetch', 'pipelined', 'parallel', 'mmap', 'auto'];
const HAVE_FAT_TOOLS = requireTools('mkfs.fat', 'fsck.fat', 'mcopy', 'mdir');

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) b[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

/** The manifest: what the memfs image holds, and so what every command must report. */
const DIRS = ['/docs', '/docs/deep', '/empty dir'];
const FILES: Record<string, Buffer> = {
  '/hello.txt': Buffer.from('hello, format seam\n'),
  '/Hello.TXT': Buffer.from('a different file: memfs names are case-sensitive\n'),
  '/docs/big.bin': bytes(3 * 1024 * 1024 + 12345, 7),
  '/docs/deep/leaf.dat': bytes(70_001, 9),
  '/zero.len': Buffer.alloc(0),
};

let work = '';
let image = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-registry-'));
  image = join(work, 'mem.img');
  const manifest = { dirs: DIRS, files: Object.fromEntries(Object.entries(FILES).map(([p, b]) => [p, b.toString('base64')])) };
  writeFileSync(image, 'DISKKIT-MEMFS\n' + JSON.stringify(manifest));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (args: string[]) => diskkit(args, { env: ENV });

describe('a format registered by a test alone goes through the real commands', () => {
  it('ls -R --json lists exactly the manifest: paths, types, sizes', async () => {
    const r = await run(['--json', 'ls', '-R', `${image}:/`]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    const listed = (JSON.parse(r.stdout) as { path: string; type: string; size: number }[]).map((e) => [e.path, e.type, e.size]).sort();
    const want = [...DIRS.map((d) => [d, 'dir', 0]), ...Object.entries(FILES).map(([p, b]) => [p, 'file', b.length])].sort();
    expect(listed).toEqual(want);
  });

  it('ls shows the case-sensitive names side by side (the command folds nothing itself)', async () => {
    const r = await run(['ls', `${image}:/`]);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['Hello.TXT', 'docs/', 'empty dir/', 'hello.txt', 'zero.len'].sort());
  });

  it.each(MODES)('cat --mode %s gives every file its bytes (read through openFile, chunk by chunk)', async (mode) => {
    for (const [path, want] of Object.entries(FILES)) {
      const r = await diskkitBytes(['cat', '--mode', mode, '--chunk-size', '64K', `${image}:${path}`], ENV);
      expect(r.exitCode, `${mode} ${path}: ${String(r.stderr)}`).toBe(0);
      expect(Buffer.compare(Buffer.from(r.stdout as Uint8Array), want), `${mode} ${path}`).toBe(0);
    }
  });

  it('cp -r out writes the tree of the manifest, bytes and names (Hello.TXT and hello.txt both, the host directory being case-sensitive)', async () => {
    const out = join(work, 'out');
    const r = await run(['--json', 'cp', '-r', '--mode', 'parallel', `${image}:/`, out]);
    const outcome = JSON.parse(r.stdout);
    expect([r.exitCode, outcome.errors, outcome.files]).toEqual([0, [], Object.keys(FILES).length]);
    // A host directory that folds case would get hello~1.txt instead (test/cp-out-host-case.test.ts).
    expect(outcome.renamed).toEqual([]);
    const got = readHostTree(out);
    const want = new Map<string, Buffer | null>([...DIRS.map((d): [string, null] => [d.slice(1) + '/', null]), ...Object.entries(FILES).map(([p, b]): [string, Buffer] => [p.slice(1), b])]);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [path, b] of want) if (b) expect(got.get(path)!.equals(b), path).toBe(true);
  });

  it("info prints the format's own detail lines and --json its fields, without knowing the format", async () => {
    const human = await run(['info', image]);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/^type: +memfs \(test format\)$/m);
    expect(human.stdout).toMatch(new RegExp(`^files: +${Object.keys(FILES).length}$`, 'm'));
    const json = JSON.parse((await run(['--json', 'info', image])).stdout);
    expect([json.format, json.files, json.details]).toEqual(['memfs', Object.keys(FILES).length, undefined]);
  });

  it('bench reads the largest file and random 4 KiB pieces through the readers in every mode, and the checksums agree', async () => {
    const r = await run(['--json', 'bench', image, '--mode', 'all', '--runs', '1', '--seconds', '0.2']);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.format).toBe('memfs');
    const seq = report.workloads.sequentialRead;
    expect(seq.byMode.map((m: { mode: string }) => m.mode).sort()).toEqual(MODES.filter((m) => m !== 'auto').sort());
    expect(seq.checksumsAgree).toBe(true);
    expect(seq.byMode[0].checksum).toBe(crc32(FILES['/docs/big.bin']!).toString(16).padStart(8, '0'));
    expect(report.workloads.randomRead.checksumsAgree).toBe(true);
    expect(report.workloads.metadataWalk.entries).toBe(DIRS.length + Object.keys(FILES).length);
  });
});

describe('write commands on a format diskkit only reads', () => {
  const writes: [string, (img: string, host: string) => string[]][] = [
    ['cp into it', (img, host) => ['cp', host, `${img}:/new.txt`]],
    ['mkdir', (img) => ['mkdir', `${img}:/newdir`]],
    ['rm', (img) => ['rm', `${img}:/hello.txt`]],
    ['mv', (img) => ['mv', `${img}:/hello.txt`, `${img}:/moved.txt`]],
  ];
  it.each(writes)('%s: E_READ_ONLY naming the format, exit 1, the image untouched', async (_what, args) => {
    const host = join(work, 'host.txt');
    writeFileSync(host, 'data');
    const before = readFileSync(image);
    const r = await run(args(image, host));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^diskkit: .*mem\.img: memfs \(test format\) volumes are read-only in diskkit/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(readFileSync(image).equals(before)).toBe(true);
  });

  it('fsck and mkfs --type on a format without those hooks: E_UNSUPPORTED naming the format', async () => {
    const fsck = await run(['fsck', image]);
    expect([fsck.exitCode, fsck.stderr]).toEqual([8, expect.stringMatching(/memfs \(test format\) does not support fsck/)]);
    const mkfs = await run(['mkfs', join(work, 'never.img'), '--size', '1M', '--type', 'memfs']);
    expect([mkfs.exitCode, mkfs.stderr]).toEqual([1, expect.stringMatching(/memfs \(test format\) does not support mkfs/)]);
  });
});

describe.runIf(HAVE_FAT_TOOLS)('cp between images of different formats', () => {
  it('memfs -> FAT16: the tree lands in the FAT image; mtools reads back the bytes, fsck.fat -n is clean', async () => {
    const dir = freshDir('memfat-', work);
    const fat = makeImage(dir, 'fat16');
    const r = await run(['--json', 'cp', '-r', `${image}:/docs`, `${fat}:/copied`]);
    expect(r.exitCode, r.stderr).toBe(0);
    const outcome = JSON.parse(r.stdout);
    expect([outcome.files, outcome.errors]).toEqual([2, []]);
    expectFsckClean(fat);
    const tree = mtoolsTree(fat, freshDir('m-', dir));
    expect(tree.get('copied/big.bin')!.equals(FILES['/docs/big.bin']!)).toBe(true);
    expect(tree.get('copied/deep/leaf.dat')!.equals(FILES['/docs/deep/leaf.dat']!)).toBe(true);
  });

  it('FAT12 -> FAT32 (two images, two FAT types): the same names and bytes, fsck.fat -n clean, and the result reported as cp into an image reports it', async () => {
    const dir = freshDir('fat2fat-', work);
    const src = makeImage(dir, 'fat12');
    const dst = makeImage(dir, 'fat32');
    const host = join(dir, 'tree');
    mkdirSync(join(host, 'Sub Dir'), { recursive: true });
    const files: Record<string, Buffer> = { 'Read Me.txt': Buffer.from('long name\n'), 'Sub Dir/data.bin': bytes(150_000, 3), 'Sub Dir/EMPTY': Buffer.alloc(0), 'short.c': Buffer.from('int x;\n') };
    for (const [p, b] of Object.entries(files)) writeFileSync(join(host, p), b);
    expect((await diskkit(['cp', '-r', `${host}/.`, `${src}:/`])).exitCode).toBe(0);

    const r = await diskkit(['--json', 'cp', '-r', `${src}:/`, `${dst}:/backup`]);
    expect(r.exitCode, r.stderr).toBe(0);
    const outcome = JSON.parse(r.stdout);
    expect([outcome.files, outcome.directories, outcome.bytes, outcome.errors]).toEqual([4, 2, 150_000 + 10 + 7, []]);
    expect(outcome.written.find((w: { path: string }) => w.path === '/backup/Sub Dir/data.bin')).toEqual({ path: '/backup/Sub Dir/data.bin', type: 'file', size: 150_000, from: '/Sub Dir/data.bin' });
    expectFsckClean(dst);
    expectFsckClean(src);
    const tree = mtoolsTree(dst, freshDir('m-', dir));
    for (const [p, b] of Object.entries(files)) expect(tree.get(`backup/${p}`)?.equals(b), p).toBe(true);
  });

  it('a file that cannot be read on the source side is reported, the rest is copied, exit 1', async () => {
    const dir = freshDir('bad-', work);
    const dst = makeImage(dir, 'fat12');
    const r = await run(['cp', `${image}:/hello.txt`, `${image}:/nothing-here`, `${dst}:/`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/no such file or directory \(path \/nothing-here\)/);
    const listing = await execa('mtype', ['-i', dst, '::/hello.txt'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' }, reject: false });
    expect(listing.stdout + '\n').toBe(FILES['/hello.txt']!.toString());
  });
});

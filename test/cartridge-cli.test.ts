/**
 * Every command on Cartridge images, run as a user runs them (the built CLI): images
 * made by `mkfs --type cartridge --from` (lz4, zstd, none, encrypted) read back by ls,
 * cat (every read mode), cp -r and info against the host tree they were made from;
 * write commands; passphrase sources and errors; a flipped bit reported as E_CHECKSUM at
 * the extent's page (found independently, by searching the image for the file's bytes);
 * truncation; reproducible mkfs; snapshot paths (IMAGE@NAME:/PATH); bench's read modes
 * against the file's CRC-32; cp between FAT and Cartridge checked with fsck.fat -n and
 * mtools, and cp from NTFS (written by ntfs-3g) into a Cartridge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { createHash } from 'node:crypto';
import { diskkit, diskkitBytes } from './helpers/cli.js';
import { requireRoot, requireTools } from './helpers/oracle.js';
import { expectFsckClean, makeImage, mtoolsTree, readHostTree } from './helpers/fat-write.js';
import { CartridgeStore } from '../src/engine/cartridge/store.js';
import { openVolume } from '../src/engine/open-volume.js';
import { InodeKind, encodeInodeRecord } from '../src/engine/cartridge/inode-record.js';
import { ROOT_DIRECTORY_ID, ROOT_ENTRY_KEY } from '../src/engine/cartridge/catalog-key.js';

const PASSPHRASE = 'tr0ub4dor & 3';
const ENC = { DISKKIT_PASSPHRASE: PASSPHRASE };
let dir: string;
let src: string;
let tree: Map<string, Buffer | null>;

function pattern(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dk-cart-cli-'));
  src = join(dir, 'src');
  mkdirSync(join(src, 'sub', 'deep'), { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'hello\n');
  writeFileSync(join(src, 'empty'), '');
  writeFileSync(join(src, 'name with spaces & ünïcode.txt'), 'x'.repeat(700));
  writeFileSync(join(src, 'sub', 'rand.bin'), pattern(1_300_000, 7));
  writeFileSync(join(src, 'sub', 'deep', 'text.txt'), 'a compressible line of text\n'.repeat(80_000));
  // A whole MiB of zeros between data: stored as a hole, read back as zeros.
  writeFileSync(join(src, 'sub', 'deep', 'holey.bin'), Buffer.concat([pattern(1 << 20, 8), Buffer.alloc(1 << 20), pattern(100_000, 9)]));
  // Fixed times, so reproducible images compare whatever the checkout's times are.
  for (const p of ['a.txt', 'empty', 'name with spaces & ünïcode.txt', 'sub/rand.bin', 'sub/deep/text.txt', 'sub/deep/holey.bin', 'sub/deep', 'sub', '.']) utimesSync(join(src, p), 1_600_000_000, 1_600_000_000);
  tree = readHostTree(src);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tree as path → "length sha256" (comparing megabytes by value makes a failure's diff unreadably slow). */
function digests(tree: Map<string, Buffer | null>): Map<string, string | null> {
  return new Map([...tree].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, data]) => [p, data === null ? null : `${data.length} ${createHash('sha256').update(data).digest('hex')}`]));
}

/** The `--json` error document's code (and the exit status). */
function errorOf(r: { stdout: unknown; exitCode?: number }): { code: string; exitCode: number | undefined; context: Record<string, unknown> } {
  const doc = JSON.parse(String(r.stdout)) as { error: { code: string; context?: Record<string, unknown> } };
  return { code: doc.error.code, exitCode: r.exitCode, context: doc.error.context ?? {} };
}

async function mkfs(image: string, extra: string[], env: Record<string, string> = {}): Promise<void> {
  const r = await diskkit(['mkfs', image, '--type', 'cartridge', '--from', src, ...extra], { env });
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
}

const VARIANTS = [
  { name: 'lz4', args: ['--compress', 'lz4'], env: {} as Record<string, string> },
  { name: 'zstd', args: ['--compress', 'zstd', '--checksum', 'sha256'], env: {} as Record<string, string> },
  { name: 'none', args: ['--compress', 'none'], env: {} as Record<string, string> },
  { name: 'encrypted', args: ['--compress', 'zstd', '--encrypt'], env: ENC },
];

describe('mkfs --type cartridge --from, read back by every read command', () => {
  for (const v of VARIANTS) {
    it(`${v.name}: ls -R --json, cp -r out, cat, info agree with the host tree`, async () => {
      const image = join(dir, `${v.name}.cart`);
      await mkfs(image, v.args, v.env);
      const out = join(dir, `${v.name}-out`);
      const [ls, cp, cat, info] = await Promise.all([
        diskkit(['ls', '-R', '--json', image], { env: v.env }),
        diskkit(['cp', '-r', `${image}:/`, out], { env: v.env }),
        diskkitBytes(['cat', `${image}:/sub/deep/holey.bin`], v.env),
        diskkit(['info', '--json', image], { env: v.env }),
      ]);
      expect(ls.exitCode).toBe(0);
      const listed = (JSON.parse(ls.stdout) as { path: string; type: string; size: number; mtime: string }[]).map((e) => [e.type === 'dir' ? `${e.path.slice(1)}/` : e.path.slice(1), e.size, e.mtime]);
      const expected = [...tree].map(([p, data]) => [p, data === null ? 0 : data.length, new Date(statSync(join(src, p)).mtimeMs).toISOString()]);
      expect(listed.sort()).toEqual(expected.sort());
      expect(cp.exitCode).toBe(0);
      expect(digests(readHostTree(out))).toEqual(digests(tree));
      expect(Buffer.compare(Buffer.from(cat.stdout as Uint8Array), tree.get('sub/deep/holey.bin')!)).toBe(0);
      const fields = JSON.parse(info.stdout) as Record<string, unknown>;
      expect(fields).toMatchObject({ format: 'cartridge', encrypted: v.name === 'encrypted', compression: v.args[1], checksum: v.name === 'zstd' ? 'sha256' : 'crc32', entries: tree.size });
      expect(fields.totalBytes).toBe(statSync(image).size);
    }, 60_000);
  }

  it('cat gives the same bytes in every read mode (zstd and encrypted extents, through the worker)', async () => {
    const expected = tree.get('sub/deep/text.txt')!;
    const modes = ['streaming', 'prefetch', 'pipelined', 'parallel', 'mmap', 'auto'];
    const runs = await Promise.all(
      modes.flatMap((mode) => ['zstd', 'encrypted'].map((v) => diskkitBytes(['cat', '--mode', mode, '--chunk-size', '64K', `${join(dir, `${v}.cart`)}:/sub/deep/text.txt`], ENC))),
    );
    for (const r of runs) {
      expect(r.exitCode).toBe(0);
      expect(Buffer.compare(Buffer.from(r.stdout as Uint8Array), expected)).toBe(0);
    }
  }, 60_000);

  it('bench runs every read mode on a cartridge; each sequential read has the file CRC-32', async () => {
    const r = await diskkit(['bench', '--json', '--runs', '1', '--seconds', '0.2', '--mode', 'all', join(dir, 'lz4.cart')]);
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout) as { format: string; workloads: { sequentialRead: { byMode: { mode: string; checksum: string }[] }; metadataWalk: { entries: number } } };
    expect(report.format).toBe('cartridge');
    const largest = crc32(tree.get('sub/deep/text.txt')!).toString(16).padStart(8, '0');
    expect(report.workloads.sequentialRead.byMode.map((m) => m.mode).sort()).toEqual(['mmap', 'parallel', 'pipelined', 'prefetch', 'streaming']);
    for (const m of report.workloads.sequentialRead.byMode) expect(m.checksum, m.mode).toBe(largest);
    expect(report.workloads.metadataWalk.entries).toBe(tree.size);
  }, 60_000);
});

describe('write commands on a cartridge', () => {
  it('mkdir, cp in (with --compress), mv, rm: the tree is what they said, read back by cp -r', async () => {
    const image = join(dir, 'edit.cart');
    copyFileSync(join(dir, 'lz4.cart'), image);
    const steps = [
      ['mkdir', `${image}:/new`],
      ['cp', '--compress', 'zstd', join(src, 'sub', 'deep', 'text.txt'), `${image}:/new/z.txt`],
      ['cp', '-r', join(src, 'sub'), `${image}:/new`],
      ['mv', `${image}:/a.txt`, `${image}:/new/`],
      ['mv', `${image}:/sub`, `${image}:/renamed`],
      ['rm', '-r', `${image}:/renamed/deep`],
      ['rm', `${image}:/empty`],
    ];
    for (const args of steps) {
      const r = await diskkit(args);
      expect({ args, stderr: r.stderr, exitCode: r.exitCode }).toEqual({ args, stderr: '', exitCode: 0 });
    }
    const expected = new Map<string, Buffer | null>();
    const put = (to: string, from: string): void => void expected.set(to, tree.get(from)!);
    put('name with spaces & ünïcode.txt', 'name with spaces & ünïcode.txt');
    expected.set('new/', null);
    put('new/a.txt', 'a.txt');
    put('new/z.txt', 'sub/deep/text.txt');
    for (const [p, data] of tree) if (p.startsWith('sub/')) expected.set(`new/${p}`, data);
    expected.set('renamed/', null);
    put('renamed/rand.bin', 'sub/rand.bin');
    const out = join(dir, 'edit-out');
    expect((await diskkit(['cp', '-r', `${image}:/`, out])).exitCode).toBe(0);
    expect(digests(readHostTree(out))).toEqual(digests(new Map([...expected].sort())));
    const info = await diskkit(['info', '--json', image]);
    expect(JSON.parse(info.stdout).entries).toBe(expected.size);
  }, 60_000);

  it('errors keep their codes: existing directory, missing path, not empty', async () => {
    const image = join(dir, 'lz4.cart');
    // The two writers one after the other: run together, one of them could find the
    // other holding the image and fail with E_BUSY instead (a busy machine made it so).
    const [exists, missing] = await Promise.all([diskkit(['--json', 'mkdir', `${image}:/sub`]), diskkit(['--json', 'cat', `${image}:/nope`])]);
    const notEmpty = await diskkit(['--json', 'rm', `${image}:/sub`]);
    expect(errorOf(exists).code).toBe('E_EXISTS');
    expect(errorOf(missing).code).toBe('E_NOT_FOUND');
    expect(exists.exitCode).toBe(1);
    expect(notEmpty.exitCode).toBe(1);
  }, 60_000);
});

describe('passphrases, damage and truncation', () => {
  it('a wrong or missing passphrase is E_BAD_PASSPHRASE; --key-file is read', async () => {
    const image = join(dir, 'encrypted.cart');
    const keyFile = join(dir, 'key.txt');
    writeFileSync(keyFile, `${PASSPHRASE}\n`);
    const [wrong, missing, keyed] = await Promise.all([
      diskkit(['--json', 'ls', image], { env: { DISKKIT_PASSPHRASE: 'not it' } }),
      diskkit(['--json', 'ls', image]),
      diskkit(['--key-file', keyFile, 'cat', `${image}:/a.txt`]),
    ]);
    expect(errorOf(wrong)).toMatchObject({ code: 'E_BAD_PASSPHRASE', exitCode: 1, context: { reason: 'wrong-passphrase' } });
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    expect(errorOf(missing)).toMatchObject({ code: 'E_BAD_PASSPHRASE', exitCode: 1, context: { reason: 'passphrase-needed' } });
    expect(keyed.stdout).toBe('hello');
    // The passphrase is not a word of the image: names and data are encrypted.
    const bytes = readFileSync(image);
    expect(bytes.includes(Buffer.from('compressible line'))).toBe(false);
    expect(bytes.includes(Buffer.from('rand.bin'))).toBe(false);
  }, 60_000);

  it("a flipped bit in a file's extent is E_CHECKSUM naming the extent's page; no wrong byte is written out", async () => {
    const image = join(dir, 'damaged.cart');
    copyFileSync(join(dir, 'none.cart'), image);
    const bytes = readFileSync(image);
    const data = tree.get('sub/rand.bin')!;
    // rand.bin is stored raw: its first extent is where its first bytes are.
    const at = bytes.indexOf(data.subarray(0, 64));
    expect(at % 4096).toBe(0);
    bytes[at + 300_000]! ^= 0x04;
    writeFileSync(image, bytes);
    const [cat, json] = await Promise.all([diskkitBytes(['cat', `${image}:/sub/rand.bin`]), diskkit(['--json', 'cat', `${image}:/sub/rand.bin`])]);
    expect(cat.exitCode).toBe(1);
    expect(Buffer.from(cat.stderr as Uint8Array).toString('utf8')).toMatch(new RegExp(`extent at page ${at / 4096}: checksum mismatch`));
    const out = Buffer.from(cat.stdout as Uint8Array);
    expect(Buffer.compare(out, data.subarray(0, out.length))).toBe(0);
    expect(errorOf(json)).toMatchObject({ code: 'E_CHECKSUM', context: { page: at / 4096 } });
    // Other files still read.
    expect((await diskkit(['cat', `${image}:/a.txt`])).stdout).toBe('hello');
  }, 60_000);

  it('a truncated image is E_TRUNCATED, saying so', async () => {
    const image = join(dir, 'truncated.cart');
    copyFileSync(join(dir, 'lz4.cart'), image);
    truncateSync(image, Math.floor(statSync(image).size / 2));
    const tiny = join(dir, 'tiny.cart');
    writeFileSync(tiny, readFileSync(image).subarray(0, 300));
    const [ls, head] = await Promise.all([diskkit(['--json', 'ls', '-R', image]), diskkit(['--json', 'ls', tiny])]);
    expect(errorOf(ls).code).toBe('E_TRUNCATED');
    expect(ls.stderr).toMatch(/image is truncated/);
    // 300 bytes: still recognised by its magic, and reported as a cut superblock, not as a bad FAT boot sector.
    expect(errorOf(head).code).toBe('E_TRUNCATED');
    expect(head.stderr).toMatch(/ends inside the superblock/);
  }, 60_000);
});

describe('reproducible mkfs', () => {
  it('SOURCE_DATE_EPOCH and --invariant give the same bytes twice', async () => {
    const a = join(dir, 'r1.cart');
    const b = join(dir, 'r2.cart');
    const c = join(dir, 'r3.cart');
    await Promise.all([mkfs(a, ['--compress', 'zstd'], { SOURCE_DATE_EPOCH: '1700000000' }), mkfs(b, ['--compress', 'zstd'], { SOURCE_DATE_EPOCH: '1700000000' }), mkfs(c, ['--compress', 'zstd', '--invariant'])]);
    expect(Buffer.compare(readFileSync(a), readFileSync(b))).toBe(0);
    expect(Buffer.compare(readFileSync(a), readFileSync(c))).not.toBe(0);
  }, 60_000);
});

describe('snapshots: IMAGE@NAME:/PATH reads the pinned tree', () => {
  it('ls, cat and cp read the snapshot after the live tree changed; writes to it are refused', async () => {
    const image = join(dir, 'snap.cart');
    copyFileSync(join(dir, 'zstd.cart'), image);
    const store = CartridgeStore.open(image, { writable: true });
    store.createSnapshot('before');
    store.commit();
    store.close();
    for (const args of [['rm', '-r', `${image}:/sub`], ['cp', join(src, 'a.txt'), `${image}:/after.txt`]]) expect((await diskkit(args)).exitCode).toBe(0);
    const out = join(dir, 'snap-out');
    const [live, old, cat, cp, write] = await Promise.all([
      diskkit(['ls', image]),
      diskkit(['ls', `${image}@before:/sub`]),
      diskkitBytes(['cat', `${image}@before:/sub/rand.bin`]),
      diskkit(['cp', '-r', `${image}@before:/`, out]),
      diskkit(['--json', 'mkdir', `${image}@before:/x`]),
    ]);
    expect(live.stdout.split('\n').filter(Boolean).sort()).toEqual(['a.txt', 'after.txt', 'empty', 'name with spaces & ünïcode.txt']);
    expect(old.stdout.split('\n').filter(Boolean)).toEqual(['deep/', 'rand.bin']);
    expect(Buffer.compare(Buffer.from(cat.stdout as Uint8Array), tree.get('sub/rand.bin')!)).toBe(0);
    expect(cp.exitCode).toBe(0);
    expect(digests(readHostTree(out))).toEqual(digests(tree));
    expect(errorOf(write)).toMatchObject({ code: 'E_READ_ONLY', exitCode: 1 });
    const missing = await diskkit(['--json', 'ls', `${image}@nosuch:/`]);
    expect(errorOf(missing).code).toBe('E_NOT_FOUND');
  }, 60_000);
});

describe.runIf(requireTools('mkfs.fat', 'fsck.fat', 'mcopy'))('cp between FAT and Cartridge', () => {
  it('cartridge → FAT: fsck.fat -n is clean and mtools reads the same bytes; FAT → cartridge reads them back', async () => {
    const fat = makeImage(dir, 'fat16', 'cross.img');
    const r = await diskkit(['cp', '-r', `${join(dir, 'zstd.cart')}:/sub`, `${fat}:/`]);
    expect(r.exitCode).toBe(0);
    expectFsckClean(fat);
    const expected = new Map([...tree].filter(([p]) => p.startsWith('sub/')));
    const mt = join(dir, 'mtools-out');
    mkdirSync(mt);
    expect(digests(mtoolsTree(fat, mt))).toEqual(digests(expected));
    const back = join(dir, 'from-fat.cart');
    await diskkit(['mkfs', back, '--type', 'cartridge', '--compress', 'none']);
    const into = await diskkit(['cp', '-r', `${fat}:/sub`, `${back}:/`]);
    expect(into.exitCode).toBe(0);
    const out = join(dir, 'from-fat-out');
    expect((await diskkit(['cp', '-r', `${back}:/`, out])).exitCode).toBe(0);
    expect(digests(readHostTree(out))).toEqual(digests(expected));
  }, 60_000);
});

describe.runIf(requireTools('mkntfs', 'ntfs-3g') && requireRoot('mounting NTFS through FUSE'))('cp from NTFS into a Cartridge', () => {
  it('files written by ntfs-3g read back from the cartridge byte for byte', async () => {
    const ntfs = join(dir, 'small.ntfs');
    const mnt = mkdtempSync(join(tmpdir(), 'dk-cart-ntfs-'));
    writeFileSync(ntfs, '');
    truncateSync(ntfs, 16 * 1024 * 1024);
    execFileSync('mkntfs', ['-F', '-q', '-s', '512', '-c', '4096', ntfs], { stdio: 'ignore' });
    execFileSync('ntfs-3g', [ntfs, mnt]);
    try {
      execFileSync('cp', ['-r', join(src, 'sub'), join(src, 'a.txt'), mnt]);
    } finally {
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
    const cart = join(dir, 'from-ntfs.cart');
    expect((await diskkit(['mkfs', cart, '--type', 'cartridge', '--compress', 'zstd'])).exitCode).toBe(0);
    for (const from of ['sub', 'a.txt']) expect((await diskkit(['cp', '-r', `${ntfs}:/${from}`, `${cart}:/`])).exitCode).toBe(0);
    const out = join(dir, 'from-ntfs-out');
    expect((await diskkit(['cp', '-r', `${cart}:/`, out])).exitCode).toBe(0);
    expect(digests(readHostTree(out))).toEqual(digests(new Map([...tree].filter(([p]) => p === 'a.txt' || p.startsWith('sub/')))));
  }, 60_000);
});

describe('a hostile catalog (checksums recomputed, so only the structure is wrong)', () => {
  it('a directory that contains itself and names with / or .. end in reported errors, never a hang or a write outside the destination', async () => {
    const image = join(dir, 'hostile.cart');
    const store = CartridgeStore.create(image, {});
    const dirRecord = (id: number): Uint8Array => encodeInodeRecord({ id, kind: InodeKind.DIRECTORY, permissions: 0, size: 0, mtimeMs: 0, data: { mode: 'empty' } });
    const fileRecord = (id: number, text: string): Uint8Array => encodeInodeRecord({ id, kind: InodeKind.FILE, permissions: 0, size: text.length, mtimeMs: 0, data: { mode: 'inline', bytes: Buffer.from(text) } });
    const key = (parent: number, name: string): Uint8Array => Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, parent]), Buffer.from(name)]);
    // Key order: parent id, then name bytes ('..' < 'a/b' < 'loop' < 'ok.txt').
    store.adoptCatalog(
      [
        [ROOT_ENTRY_KEY, dirRecord(ROOT_DIRECTORY_ID)],
        [key(1, '..'), fileRecord(3, 'dotdot')],
        [key(1, 'a/b'), fileRecord(4, 'slash')],
        [key(1, 'loop'), dirRecord(ROOT_DIRECTORY_ID)],
        [key(1, 'ok.txt'), fileRecord(5, 'fine')],
      ],
      () => ({ nextInodeId: 6, fileCount: 4 }),
    );
    store.commit();
    store.close();
    const out = join(dir, 'hostile-out', 'inside');
    mkdirSync(out, { recursive: true });
    const [ls, cp, rm] = await Promise.all([
      diskkit(['ls', '-R', image], { timeout: 30_000 }),
      diskkit(['cp', '-r', `${image}:/`, out], { timeout: 30_000 }),
      diskkit(['rm', '-r', `${join(dir, 'hostile.cart')}:/loop`], { timeout: 30_000 }),
    ]);
    expect(ls.exitCode).toBe(1);
    expect(ls.stderr).toMatch(/already listed as \/ \(a loop/);
    expect(ls.stdout).toMatch(/ok\.txt/);
    expect(ls.stdout).not.toMatch(/a\/b|\.\.\n/);
    expect(cp.exitCode).toBe(1);
    expect(readFileSync(join(out, 'ok.txt'), 'utf8')).toBe('fine');
    // Nothing landed beside the destination: '..' and 'a/b' were never written anywhere
    // ('loop' is made, then its listing fails: it is the root again).
    expect([...readHostTree(join(dir, 'hostile-out')).keys()].sort()).toEqual(['inside/', 'inside/loop/', 'inside/ok.txt']);
    expect(rm.exitCode).toBe(1);
    expect(rm.stderr).toMatch(/inside itself/);
  }, 60_000);
});

describe('--json documents on cartridges match docs/schemas', () => {
  it('mkfs, info, ls, cp in and out, mkdir, mv, rm', async () => {
    const schemas = fileURLToPath(new URL('../docs/schemas/', import.meta.url));
    const ajv = new Ajv({ allErrors: true, strict: true });
    for (const file of readdirSync(schemas)) ajv.addSchema(JSON.parse(readFileSync(join(schemas, file), 'utf8')), file.replace('.schema.json', ''));
    const expectValid = (schema: string, stdout: string): void => {
      const validate = ajv.getSchema(schema)!;
      const ok = validate(JSON.parse(stdout));
      expect(ok ? [] : validate.errors, `${schema}: ${stdout.slice(0, 300)}`).toEqual([]);
    };
    const image = join(dir, 'schemas.cart');
    expectValid('mkfs', (await diskkit(['--json', 'mkfs', image, '--type', 'cartridge', '--from', join(src, 'sub')])).stdout);
    const [info, ls, cpOut] = await Promise.all([
      diskkit(['--json', 'info', image]),
      diskkit(['--json', 'ls', '-R', image]),
      diskkit(['--json', 'cp', '-r', `${image}:/deep`, join(dir, 'schemas-out')]),
    ]);
    expectValid('info', info.stdout);
    expectValid('ls', ls.stdout);
    expectValid('cp-out', cpOut.stdout);
    expectValid('cp-in', (await diskkit(['--json', 'cp', join(src, 'a.txt'), `${image}:/`])).stdout);
    expectValid('mkdir', (await diskkit(['--json', 'mkdir', `${image}:/d`])).stdout);
    expectValid('mv', (await diskkit(['--json', 'mv', `${image}:/a.txt`, `${image}:/d/`])).stdout);
    expectValid('rm', (await diskkit(['--json', 'rm', '-r', `${image}:/d`])).stdout);
  }, 60_000);
});

describe('one writer at a time', () => {
  it('a second writer gets E_BUSY while the first holds the image; a stale lock (dead pid) is taken over', async () => {
    const image = join(dir, 'locked.cart');
    expect((await diskkit(['mkfs', image, '--type', 'cartridge'])).exitCode).toBe(0);
    const first = await openVolume(image, { writable: true });
    try {
      const [busy, reader] = await Promise.all([diskkit(['--json', 'mkdir', `${image}:/x`]), diskkit(['ls', image])]);
      expect(errorOf(busy)).toMatchObject({ code: 'E_BUSY', exitCode: 1 });
      expect(reader.exitCode).toBe(0);
      // The management commands that write take the same lock.
      for (const args of [['snapshot', 'create', image, 's1'], ['compact', image], ['key', 'change', image]]) {
        expect(errorOf(await diskkit(['--json', ...args])), args.join(' ')).toMatchObject({ code: 'E_BUSY', exitCode: 1 });
      }
    } finally {
      first.close();
    }
    // A writer killed with SIGKILL leaves its lock; its pid is gone.
    writeFileSync(`${image}.lock`, '2147483646\n');
    expect((await diskkit(['mkdir', `${image}:/x`])).exitCode).toBe(0);
    expect(existsSync(`${image}.lock`)).toBe(false);
    expect((await diskkit(['ls', image])).stdout).toBe('x/');
  }, 60_000);
});

describe('mkfs --type cartridge where the image cannot be created', () => {
  it('names the image asked for, never the temporary file it is written under', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'diskkit-cart-mkfs-missing-'));
    const image = join(parent, 'no-such-dir', 'x.cart');
    const r = await diskkit(['--json', 'mkfs', image, '--type', 'cartridge']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(`diskkit: ${image}: cannot create image: no such file`);
    const doc = JSON.parse(r.stdout) as { error: { code: string; image: string; context?: { path?: string } } };
    expect(doc.error.image).toBe(image);
    expect(doc.error.context?.path ?? image).toBe(image);
    rmSync(parent, { recursive: true, force: true });
  });
});

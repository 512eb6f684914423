/**
 * One body of command-level tests run over a FAT image (mkfs.fat + mcopy) and an NTFS
 * image (mkntfs + an ntfs-3g mount) holding the same tree, as rust-fatfs runs one body
 * over FAT12/16/32: what the read commands share (listing, cat, cp out, names the host
 * cannot take, exit codes) must behave the same on both. Expectations come from each
 * format's own tools: `mdir -b` and `mtype` for FAT, `fls -r -p` and `icat` for NTFS.
 *
 * The tree: files of several sizes (empty, resident-sized, over a cluster, 200 KB),
 * non-ASCII and mixed-case names, nested directories, and two names longer than the
 * host's 255-byte limit in UTF-8 that only differ past that limit (both formats store
 * 255 UTF-16 units), so cp out must shorten them and keep them apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { diskkit, diskkitBytes } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { EXIT_CODE_BY_ERROR, ExitCode } from '../src/commands/exit-codes.js';
import { ErrorCode } from '../src/engine/errors.js';

const HAVE = requireTools('mkfs.fat', 'mcopy', 'mmd', 'mdir', 'mtype', 'mkntfs', 'ntfs-3g', 'fls', 'icat');
const MENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
/** 130 two-byte characters: 260 bytes of UTF-8, past the host's 255. */
const LONG_NAMES = ['é'.repeat(130), 'é'.repeat(129) + 'e'];
const HOST_NAME_MAX = 255;

interface OracleEntry {
  /** Relative to /data, '/'-separated. */
  path: string;
  type: 'file' | 'dir';
}

/** What the format's own tools say the image holds under /data. */
interface Oracle {
  entries(): OracleEntry[];
  bytes(path: string): Buffer;
}

let work = '';
const images: Record<string, { image: string; oracle: Oracle }> = {};

/** The host tree under work/tree/data: deterministic bytes, a spread of sizes and names. */
function buildTree(root: string): void {
  let seed = 4242;
  const bytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    return b;
  };
  const files: Record<string, number> = {
    'README.TXT': 100, 'lower.txt': 1, 'MixedCase.Md': 511, 'ünïcødé — ñame.txt': 513, 'empty': 0,
    'docs/chapter one.txt': 2047, 'docs/4096.bin': 4096, 'deep/a/b/c/leaf.txt': 33,
    'big/x.bin': 200_000, 'big/cluster-plus-one.bin': 65_537,
  };
  for (const [path, size] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), bytes(size));
  }
}

function fatOracle(image: string): Oracle {
  return {
    entries() {
      const out = execFileSync('mdir', ['-i', image, '-/', '-b', '-a', '::/data'], { env: MENV, encoding: 'utf8' });
      return out.split('\n').filter((l) => l.startsWith('::/data/')).map((l) => {
        const dir = l.endsWith('/');
        return { path: l.slice('::/data/'.length, dir ? -1 : undefined), type: dir ? 'dir' : 'file' };
      });
    },
    bytes: (path) => execFileSync('mtype', ['-i', image, `::/data/${path}`], { env: MENV, maxBuffer: 1 << 26 }),
  };
}

function ntfsOracle(image: string): Oracle {
  const addresses = new Map<string, string>();
  const entries = (): OracleEntry[] => {
    const out = execFileSync('fls', ['-r', '-p', image], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const rows: OracleEntry[] = [];
    for (const line of out.split('\n')) {
      // Allocated entries only ('*' marks deleted ones), the unnamed stream (no ':').
      const m = /^(\S)\/(\S) (\S+):\t(data\/[^:]*)$/.exec(line);
      if (!m) continue;
      const path = m[4]!.slice('data/'.length);
      addresses.set(path, m[3]!);
      rows.push({ path, type: m[2] === 'd' ? 'dir' : 'file' });
    }
    return rows;
  };
  return {
    entries,
    bytes(path) {
      if (!addresses.has(path)) entries();
      return execFileSync('icat', [image, addresses.get(path)!], { maxBuffer: 1 << 26 });
    },
  };
}

function makeFat(tree: string, longSources: string[]): string {
  const image = join(work, 'shared.fat');
  execFileSync('mkfs.fat', ['-C', '-F', '16', '-n', 'SHARED', image, '20480'], { stdio: 'ignore' });
  execFileSync('mcopy', ['-i', image, '-s', '-m', join(tree, 'data'), '::/'], { env: MENV });
  execFileSync('mmd', ['-i', image, '::/data/long'], { env: MENV });
  LONG_NAMES.forEach((name, i) => execFileSync('mcopy', ['-i', image, longSources[i]!, `::/data/long/${name}`], { env: MENV }));
  return image;
}

function makeNtfs(tree: string, longSources: string[]): string {
  const image = join(work, 'shared.ntfs');
  writeFileSync(image, '');
  execFileSync('truncate', ['-s', '16M', image]);
  execFileSync('mkntfs', ['-F', '-q', '-s', '512', '-c', '4096', '-L', 'SHARED', image], { stdio: 'ignore' });
  const mnt = mkdtempSync(join(work, 'mnt-'));
  execFileSync('ntfs-3g', [image, mnt]);
  try {
    execFileSync('cp', ['-r', join(tree, 'data'), mnt]);
    mkdirSync(join(mnt, 'data', 'long'));
    LONG_NAMES.forEach((name, i) => writeFileSync(join(mnt, 'data', 'long', name), readFileSync(longSources[i]!)));
  } finally {
    execFileSync('umount', [mnt]);
    rmdirSync(mnt);
  }
  return image;
}

/** Every path under `root` (relative, '/'-separated) with its type. */
function hostTree(root: string): OracleEntry[] {
  const out: OracleEntry[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const isDir = statSync(full).isDirectory();
      out.push({ path: relative(root, full), type: isDir ? 'dir' : 'file' });
      if (isDir) walk(full);
    }
  };
  walk(root);
  return out;
}

const byPath = (a: OracleEntry, b: OracleEntry): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const bytesOf = (name: string): number => Buffer.byteLength(name);

beforeAll(() => {
  if (!HAVE) return;
  work = mkdtempSync(join(tmpdir(), 'dk-shared-read-'));
  const tree = join(work, 'tree');
  buildTree(join(tree, 'data'));
  const longSources = LONG_NAMES.map((_, i) => {
    const path = join(work, `long-${i}.src`);
    writeFileSync(path, `long name number ${i}\n`.repeat(i + 1));
    return path;
  });
  const fat = makeFat(tree, longSources);
  const ntfs = makeNtfs(tree, longSources);
  images.fat = { image: fat, oracle: fatOracle(fat) };
  images.ntfs = { image: ntfs, oracle: ntfsOracle(ntfs) };
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.runIf(HAVE).each(['fat', 'ntfs'])('the read commands on a %s image of the shared tree', (kind) => {
  const img = () => images[kind]!.image;
  const oracle = () => images[kind]!.oracle;

  it('holds what the shared body must exercise (peer tool): nested directories and names past 255 bytes', () => {
    const entries = oracle().entries();
    expect(entries.filter((e) => e.type === 'dir').map((e) => e.path)).toEqual(expect.arrayContaining(['deep/a/b/c', 'long']));
    expect(entries.filter((e) => bytesOf(e.path.split('/').pop()!) > HOST_NAME_MAX).length).toBe(LONG_NAMES.length);
  });

  it('ls -R --json lists the paths, types and sizes the peer tool lists', async () => {
    const r = await diskkit(['ls', '-R', '--json', `${img()}:/data`]);
    expect(r.exitCode, r.stderr).toBe(ExitCode.OK);
    const listed = (JSON.parse(r.stdout) as { path: string; type: 'file' | 'dir'; size: number }[]).map((e) => ({ path: e.path.slice('/data/'.length), type: e.type, size: e.size }));
    const expected = oracle().entries().map((e) => ({ ...e, size: e.type === 'file' ? oracle().bytes(e.path).length : 0 }));
    expect(listed.sort(byPath)).toEqual(expected.sort(byPath));
  });

  it('cat of every file gives the bytes the peer tool reads; a name in another case names the same file', async () => {
    const files = oracle().entries().filter((e) => e.type === 'file');
    for (const f of files) {
      const r = await diskkitBytes(['cat', `${img()}:/data/${f.path}`]);
      expect(r.exitCode, f.path).toBe(ExitCode.OK);
      expect(Buffer.compare(r.stdout, oracle().bytes(f.path)), f.path).toBe(0);
    }
    // Both formats compare names without case.
    const mixed = files.find((f) => f.path === 'MixedCase.Md')!;
    const r = await diskkitBytes(['cat', `${img()}:/DATA/mixedcase.md`]);
    expect(r.exitCode).toBe(ExitCode.OK);
    expect(Buffer.compare(r.stdout, oracle().bytes(mixed.path))).toBe(0);
  });

  it('cp -r writes the tree the peer tool lists, byte for byte; names past 255 bytes are shortened, kept apart and reported', async () => {
    const out = join(work, `cp-${kind}`);
    const r = await diskkit(['cp', '-r', `${img()}:/data`, out]);
    expect(r.exitCode, r.stderr).toBe(ExitCode.OK);
    const expected = oracle().entries();
    const long = expected.filter((e) => bytesOf(e.path.split('/').pop()!) > HOST_NAME_MAX);
    const plain = expected.filter((e) => !long.includes(e));
    const written = hostTree(out);
    // Every name the host can take is written as it is.
    expect(written.filter((w) => plain.some((p) => p.path === w.path)).sort(byPath)).toEqual(plain.sort(byPath));
    for (const f of plain.filter((e) => e.type === 'file')) expect(Buffer.compare(readFileSync(join(out, f.path)), oracle().bytes(f.path)), f.path).toBe(0);
    // The long ones: one host file each, in the same directory, a shortened name within the limit, the same bytes.
    const renamed = written.filter((w) => !plain.some((p) => p.path === w.path));
    expect(renamed).toHaveLength(long.length);
    for (const w of renamed) {
      expect(w.path.startsWith('long/')).toBe(true);
      expect(bytesOf(w.path.slice('long/'.length))).toBeLessThanOrEqual(HOST_NAME_MAX);
    }
    const longBytes = long.map((e) => oracle().bytes(e.path).toString('hex')).sort();
    expect(renamed.map((w) => readFileSync(join(out, w.path)).toString('hex')).sort()).toEqual(longBytes);
    for (const e of long) expect(r.stderr).toContain(`/data/${e.path}: name is longer than 255 bytes`);
    // Nothing was written next to the destination.
    expect(readdirSync(work).filter((n) => n.startsWith('cp-'))).toContain(`cp-${kind}`);
    expect(readdirSync(join(out, '..')).filter((n) => n.startsWith(`cp-${kind}`))).toEqual([`cp-${kind}`]);
  });

  it('errors: the same error code and exit code on both formats, chosen by what the peer tool lists', async () => {
    const entries = oracle().entries();
    const file = entries.find((e) => e.type === 'file' && e.path === 'README.TXT')!;
    const dir = entries.find((e) => e.type === 'dir' && e.path === 'docs')!;
    expect(entries.some((e) => e.path.toLowerCase() === 'no-such-file')).toBe(false);
    const exitFor = (code: string): number => EXIT_CODE_BY_ERROR[code] ?? ExitCode.ERROR;
    const cases: [string[], string][] = [
      [['cat', `${img()}:/data/no-such-file`], ErrorCode.NOT_FOUND],
      [['cat', `${img()}:/data/${dir.path}`], ErrorCode.IS_A_DIRECTORY],
      [['cp', `${img()}:/data/${dir.path}`, join(work, `no-r-${kind}`)], ErrorCode.IS_A_DIRECTORY],
      [['ls', `${img()}:/data/${file.path}/below`], ErrorCode.NOT_A_DIRECTORY],
      [['cp', `${img()}:/data/${file.path}`], ErrorCode.USAGE],
    ];
    for (const [args, code] of cases) {
      const r = await diskkit(['--json', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(exitFor(code));
      // A failed command prints an error document; cp reports each source that failed in its own.
      const doc = JSON.parse(r.stdout) as { error?: { code: string }; errors?: { code: string }[] };
      expect(doc.error?.code ?? doc.errors?.map((e) => e.code).join(), args.join(' ')).toBe(code);
    }
    // cp without -r wrote nothing.
    expect(readdirSync(work)).not.toContain(`no-r-${kind}`);
  });
});

/**
 * The FAT read path end to end: the built CLI reads the fixture images (made by
 * fixtures/make-fat-fixtures.sh with mkfs.fat, mtools, sfdisk and sgdisk) and must
 * agree with each image's manifest (written from the host tree the image was
 * filled from) and, as a second oracle, with mdir and mtype.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { BIN, diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';

interface ManifestEntry {
  path: string;
  type: 'file' | 'dir';
  size: number;
  sha256: string | null;
  mtime: string;
  attributes?: string[];
}

interface Manifest {
  image: string;
  fatType: string;
  bytesPerCluster: number;
  partition: { scheme: string; index: number; start: number; size: number } | null;
  nonBmpPaths: string[];
  fragmented: { path: string; clusterRuns: [number, number][] };
  deleted: { path: string; size: number; sha256: string | null; dataIntact: boolean }[];
  entries: ManifestEntry[];
}

interface LsEntry {
  path: string;
  name: string;
  shortName: string | null;
  type: 'file' | 'dir';
  size: number;
  mtime: string | null;
  attributes: string[];
  deleted?: boolean;
}

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
// FAT keeps modification times to 2 seconds, rounded down (fatgen103 section 6.1).
const FAT_TIME_STEP_MS = 2000;
// Both diskkit and mtools read FAT local times; the fixtures were written in UTC.
const ENV = { TZ: 'UTC', LC_ALL: 'C.UTF-8', MTOOLS_SKIP_CHECK: '1' };

const IMAGES = ['fat12', 'fat16', 'fat32', 'mbr', 'gpt'] as const;
const mtoolsPresent = requireTools('mdir', 'mtype');

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const byPath = <T extends { path: string }>(a: T, b: T): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const pick = (e: { path: string; type: string; size: number }) => ({ path: e.path, type: e.type, size: e.size });

/**
 * Files `cat` is run on (one process each, so not all of them: `cp -r` below reads
 * every file): sizes around the sector and this image's cluster size, the fragmented
 * file, the empty one, odd names, the deepest file, one entry of the big directory.
 */
function catSample(manifest: Manifest): ManifestEntry[] {
  const cluster = manifest.bytesPerCluster;
  const boundaries = new Set([0, 1, 511, 512, 513, cluster - 1, cluster, cluster + 1, 2 * cluster + 1, 65537]);
  const chosen = (e: ManifestEntry): boolean =>
    (e.path.startsWith('/sizes/') && boundaries.has(e.size)) ||
    e.path === manifest.fragmented.path ||
    manifest.nonBmpPaths.includes(e.path) ||
    e.path.endsWith('/bottom of the tree.txt') ||
    ['/MixedCase.Txt', '/Café crème – déjà vu.txt', '/hidden.txt', '/many/entry with a long name 001.txt'].includes(e.path);
  return manifest.entries.filter((e) => e.type === 'file' && chosen(e));
}

/** Runs `cat` with the bytes untouched (no final-newline stripping). */
async function catBytes(image: string, path: string) {
  return execa('node', [BIN, 'cat', `${image}:${path}`], { reject: false, encoding: 'buffer', stripFinalNewline: false, env: { NO_COLOR: '1' } });
}

/** The host tree under `root` as manifest-like entries. */
function hostTree(root: string, prefix = ''): (ManifestEntry & { mtimeMs: number })[] {
  const out: (ManifestEntry & { mtimeMs: number })[] = [];
  for (const name of readdirSync(root)) {
    const full = join(root, name);
    const st = lstatSync(full);
    const path = `${prefix}/${name}`;
    const isDir = st.isDirectory();
    out.push({ path, type: isDir ? 'dir' : 'file', size: isDir ? 0 : st.size, sha256: isDir ? null : sha256(readFileSync(full)), mtime: st.mtime.toISOString(), mtimeMs: st.mtimeMs });
    if (isDir) out.push(...hostTree(full, path));
  }
  return out;
}

/** A FAT mtime read back must lie in [host mtime - 2 s, host mtime]. */
function expectFatTime(actualMs: number, manifestIso: string, path: string): void {
  const expected = Date.parse(manifestIso);
  const lag = expected - actualMs;
  expect(lag >= 0 && lag < FAT_TIME_STEP_MS, `${path}: mtime ${new Date(actualMs).toISOString()} vs host ${manifestIso}`).toBe(true);
}

describe.each(IMAGES)('the %s fixture, read through the CLI', (name) => {
  const committed = name === 'fat12';
  const image = committed ? join(FIXTURES, `${name}.img`) : join(FIXTURES, 'generated', `${name}.img`);
  // Generated images exist when the globalSetup had the tools to build them.
  const available = committed || requireTools('mkfs.fat', 'mcopy', 'sfdisk', 'sgdisk');
  const manifest = JSON.parse(readFileSync(join(FIXTURES, `${name}.manifest.json`), 'utf8')) as Manifest;
  const mtoolsImage = manifest.partition ? `${image}@@${manifest.partition.start}` : image;

  let listing: LsEntry[] = [];
  let dest: string;
  beforeAll(async () => {
    dest = mkdtempSync(join(tmpdir(), `diskkit-${name}-`));
    if (!available) return;
    expect(existsSync(image), `${image} missing: run fixtures/make-fat-fixtures.sh`).toBe(true);
    const ls = await diskkit(['ls', '-R', '-a', '--json', image], { env: ENV });
    expect(ls.stderr).toBe('');
    expect(ls.exitCode).toBe(0);
    listing = (JSON.parse(String(ls.stdout)) as LsEntry[]).filter((e) => e.name !== '.' && e.name !== '..');
  });
  afterAll(() => rmSync(dest, { recursive: true, force: true }));

  it.runIf(available)('ls -R -a --json lists exactly the manifest paths, types and sizes', () => {
    expect(listing.map(pick).sort(byPath)).toEqual(manifest.entries.map(pick));
  });

  it.runIf(available)('ls -R -a --json gives names, mtimes (to FAT 2 s) and the attributes mattrib set', () => {
    const manifestByPath = new Map(manifest.entries.map((e) => [e.path, e]));
    for (const entry of listing) {
      const expected = manifestByPath.get(entry.path);
      if (!expected) continue; // reported by the test above
      expect(entry.name).toBe(entry.path.slice(entry.path.lastIndexOf('/') + 1));
      expect(entry.mtime, entry.path).not.toBeNull();
      expectFatTime(Date.parse(entry.mtime!), expected.mtime, entry.path);
      for (const attribute of expected.attributes ?? []) expect(entry.attributes, entry.path).toContain(attribute);
      expect(entry.attributes.includes('dir'), entry.path).toBe(entry.type === 'dir');
      expect(entry.deleted ?? false).toBe(false);
    }
  });

  it.runIf(available)('ls -R --json without -a leaves out the hidden file and nothing else', async () => {
    const ls = await diskkit(['ls', '-R', '--json', image], { env: ENV });
    expect(ls.exitCode).toBe(0);
    const paths = (JSON.parse(String(ls.stdout)) as LsEntry[]).map((e) => e.path).sort();
    const hidden = manifest.entries.filter((e) => e.attributes?.includes('hidden')).map((e) => e.path);
    expect(hidden.length).toBeGreaterThan(0);
    expect(paths).toEqual(manifest.entries.map((e) => e.path).filter((p) => !hidden.includes(p)));
  });

  it.runIf(available)('ls -R --deleted shows the deleted files under /frag with their sizes', async () => {
    const ls = await diskkit(['ls', '-R', '--deleted', '--json', `${image}:/frag`], { env: ENV });
    expect(ls.exitCode).toBe(0);
    const deleted = (JSON.parse(String(ls.stdout)) as LsEntry[]).filter((e) => e.deleted);
    expect(deleted).toHaveLength(manifest.deleted.length);
    for (const gone of manifest.deleted) {
      const dir = gone.path.slice(0, gone.path.lastIndexOf('/') + 1);
      const base = gone.path.slice(dir.length);
      // A deleted 8.3-only name loses its first character (overwritten by 0xE5); a long name keeps it.
      const match = deleted.find((e) => e.path.startsWith(dir) && (e.name === base || (e.name.length === base.length && e.name.slice(1) === base.slice(1))));
      expect(match, gone.path).toBeDefined();
      expect(match!.size).toBe(gone.size);
    }
  });

  it.runIf(available)('cat gives the bytes the host tree had (fragmented, boundary-sized, non-BMP, deep files)', async () => {
    const sample = catSample(manifest);
    expect(sample.length).toBeGreaterThanOrEqual(12);
    expect(manifest.fragmented.clusterRuns.length).toBeGreaterThan(1);
    const mismatches: string[] = [];
    for (let i = 0; i < sample.length; i += 4) {
      await Promise.all(
        sample.slice(i, i + 4).map(async (entry) => {
          const run = await catBytes(image, entry.path);
          if (run.exitCode !== 0 || sha256(run.stdout) !== entry.sha256) mismatches.push(`${entry.path} (exit ${run.exitCode}, ${run.stdout.length} bytes) ${Buffer.from(run.stderr).toString()}`);
        }),
      );
    }
    expect(mismatches).toEqual([]);
  });

  it.runIf(available)('cp -r IMG:/ DEST recreates the host tree: every path, every byte, mtimes to FAT 2 s', async () => {
    const run = await diskkit(['cp', '-r', `${image}:/`, dest], { env: ENV });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const copied = hostTree(dest).sort(byPath);
    expect(copied.map(({ path, type, size, sha256: h }) => ({ path, type, size, sha256: h }))).toEqual(
      manifest.entries.map(({ path, type, size, sha256: h }) => ({ path, type, size, sha256: h })),
    );
    const manifestByPath = new Map(manifest.entries.map((e) => [e.path, e]));
    for (const entry of copied) expectFatTime(entry.mtimeMs, manifestByPath.get(entry.path)!.mtime, entry.path);
  });

  it.runIf(available && mtoolsPresent)('mdir -/ -b -a lists the same paths as ls -R -a', () => {
    const mdir = execFileSync('mdir', ['-/', '-b', '-a', '-i', mtoolsImage, '::/'], { env: { ...process.env, ...ENV }, encoding: 'utf8' });
    const fromMtools = mdir
      .split('\n')
      .filter((line) => line.startsWith('::/'))
      .map((line) => line.slice(2).replace(/\/$/, ''))
      .sort();
    // mtools prints each half of a surrogate pair as '_' (it cannot convert them).
    const asMtoolsPrints = (path: string): string => path.replace(/[\u{10000}-\u{10FFFF}]/gu, '__');
    expect(manifest.nonBmpPaths.length).toBeGreaterThan(0);
    expect(fromMtools).toEqual(listing.map((e) => asMtoolsPrints(e.path)).sort());
  });

  it.runIf(available && mtoolsPresent)('mtype gives the bytes cat gave: the manifest bytes, for the same sample', () => {
    // cat was checked against the manifest above on this sample; mtype agreeing with the manifest
    // makes the two equal without spawning diskkit again.
    const sample = catSample(manifest).filter((e) => !manifest.nonBmpPaths.includes(e.path));
    const mismatches = sample.filter((entry) => {
      const fromMtools = execFileSync('mtype', ['-i', mtoolsImage, `::${entry.path}`], { env: { ...process.env, ...ENV } });
      return sha256(fromMtools) !== entry.sha256;
    });
    expect(mismatches.map((e) => e.path)).toEqual([]);
  });
});

describe('partition addressing through the CLI', () => {
  const available = requireTools('mkfs.fat', 'mcopy', 'sfdisk', 'sgdisk');
  const mbr = join(FIXTURES, 'generated', 'mbr.img');
  const gpt = join(FIXTURES, 'generated', 'gpt.img');

  it.runIf(available)('--partition 2 lists the same tree the automatic choice found', async () => {
    const auto = await diskkit(['ls', '-R', '-a', '--json', mbr], { env: ENV });
    const chosen = await diskkit(['--partition', '2', 'ls', '-R', '-a', '--json', mbr], { env: ENV });
    expect(chosen.exitCode).toBe(0);
    expect(JSON.parse(String(chosen.stdout))).toEqual(JSON.parse(String(auto.stdout)));
  });

  it.runIf(available)('a partition number that does not exist fails with exit 1 and the list of partitions', async () => {
    const run = await diskkit(['--partition', '9', 'ls', gpt], { env: ENV });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^diskkit: .*gpt\.img: no partition 9; GPT partitions: 1: start 1048576, size 4194304, Linux filesystem .*; 2: start 5242880, size 8388608, Microsoft basic data .*"FAT données"/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it.runIf(available)('an unformatted partition fails with a clear error naming it, not a crash', async () => {
    const run = await diskkit(['--partition', '1', 'ls', mbr], { env: ENV });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/^diskkit: .*mbr\.img: partition 1 holds no .*FAT12\/16\/32.* file system: nothing at its start marks one/);
  });
});

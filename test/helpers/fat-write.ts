/** Shared oracle checks for the FAT write tests: fresh images from mkfs.fat, fsck.fat -n, mtools read-back. */
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';

export const MENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

/** mkfs.fat arguments per FAT type: small images, with a fixed volume id so runs compare. */
export const IMAGE_SPECS = {
  fat12: { bits: '12', kib: 1440 },
  fat16: { bits: '16', kib: 16 * 1024 },
  fat32: { bits: '32', kib: 40 * 1024 },
} as const;
export type FatKind = keyof typeof IMAGE_SPECS;

export function makeImage(dir: string, type: FatKind, name = `${type}.img`, extra: string[] = []): string {
  const img = join(dir, name);
  const spec = IMAGE_SPECS[type];
  execFileSync('mkfs.fat', ['-C', '-F', spec.bits, '-i', '12345678', '--invariant', ...extra, img, String(spec.kib)], { stdio: 'ignore', env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
  return img;
}

/** fsck.fat -n must exit 0 and say nothing beyond its version line and the summary. */
export function expectFsckClean(img: string): void {
  const r = spawnSync('fsck.fat', ['-n', img], { encoding: 'utf8' });
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('fsck.fat ') && !/^\S+: \d+ files, \d+\/\d+ clusters$/.test(l));
  expect({ status: r.status, complaints: lines }).toEqual({ status: 0, complaints: [] });
}

/** Paths (relative, '/'-joined, dirs with a trailing '/') and file contents of a host tree. */
export function readHostTree(root: string): Map<string, Buffer | null> {
  const out = new Map<string, Buffer | null>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const rel = relative(root, full);
      if (statSync(full).isDirectory()) {
        out.set(rel + '/', null);
        walk(full);
      } else out.set(rel, readFileSync(full));
    }
  };
  walk(root);
  return out;
}

/** The image's tree as mtools sees it: mcopy -s of everything into `into`, then read back. */
export function mtoolsTree(img: string, into: string): Map<string, Buffer | null> {
  execFileSync('mcopy', ['-s', '-n', '-i', img, '::/', into], { env: MENV, stdio: 'ignore' });
  return readHostTree(into);
}

/** `mdir -/ -b` paths, without the '::/' prefix, sorted. */
export function mdirPaths(img: string): string[] {
  const r = spawnSync('mdir', ['-i', img, '-/', '-b', '::/'], { env: MENV, encoding: 'utf8' });
  // mdir -b reports an empty root as 'File "::/" not found' (exit 1): that is an empty listing.
  if (r.status !== 0 && !(r.stdout === '' && /File "::\/" not found/.test(r.stderr))) throw new Error(`mdir failed: ${r.stderr}`);
  const out = r.stdout;
  return out.split('\n').filter((l) => l.startsWith('::/')).map((l) => l.slice(3)).sort();
}

export function freshDir(prefix: string, base: string): string {
  return mkdtempSync(join(base, prefix));
}

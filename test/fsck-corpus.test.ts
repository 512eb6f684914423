/**
 * The fsck fault corpus against fsck.fat: every image made by
 * fixtures/make-fsck-corpus.js carries one injected fault. diskkit must find every
 * fault fsck.fat -n finds (exit 4), and after `diskkit fsck --repair` both diskkit and
 * fsck.fat -n must call the image clean while every file the fault did not touch
 * reads back (through mtools) byte-identical to the clean image.
 *
 * Process start-ups are most of the cost, so: the peers run asynchronously (several
 * images at once), each image's files are read back with one `mcopy -s` instead of
 * one `mtype` per file, the clean images' files are read once, and the check after the
 * repair runs in-process through the engine the CLI calls (the CLI's own exit codes
 * are asserted on the first check and on the repair).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFat } from '../src/engine/fat/fsck/index.js';
import { FileBlockSource } from '../src/io/block-source.js';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';

const tools = requireTools('mkfs.fat', 'fsck.fat', 'mcopy', 'mtype', 'mmd');
const script = fileURLToPath(new URL('../fixtures/make-fsck-corpus.js', import.meta.url));
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

interface ManifestImage {
  file: string;
  fatType: string;
  fault: string;
  touches: string[];
  untouched: string[];
}
interface Manifest {
  types: Record<string, { clean: string; files: string[] }>;
  images: ManifestImage[];
}

/** fsck.fat -n: exit status and the lines beyond its banner and summary (its complaints). */
function fsckFat(img: string): { status: number; complaints: string[] } {
  const r = spawnSync('fsck.fat', ['-n', img], { encoding: 'utf8' });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  const complaints = lines.filter((l) => !/^fsck\.fat \d/.test(l) && !/: \d+ files, \d+\/\d+ clusters$/.test(l));
  return { status: r.status ?? -1, complaints };
}

/** fsck.fat -n without blocking the event loop (so several images are checked at once). */
async function fsckFatAsync(img: string): Promise<{ status: number; complaints: string[] }> {
  const r = await execa('fsck.fat', ['-n', img], { reject: false, encoding: 'utf8' });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  const complaints = lines.filter((l) => !/^fsck\.fat \d/.test(l) && !/: \d+ files, \d+\/\d+ clusters$/.test(l));
  return { status: r.exitCode ?? -1, complaints };
}

/** Every file of the image, read back by mtools in one `mcopy -s` into `into`; returns a reader by image path. */
async function mtoolsTree(img: string, into: string): Promise<(path: string) => Buffer> {
  mkdirSync(into, { recursive: true });
  const r = await execa('mcopy', ['-s', '-n', '-m', '-i', img, '::*', into], { reject: false, env });
  expect({ img, exit: r.exitCode, stderr: r.stderr }).toEqual({ img, exit: 0, stderr: '' });
  return (path) => readFileSync(join(into, path));
}

/** The check after a repair, in-process through the engine `diskkit fsck` runs. */
async function checkInProcess(img: string) {
  const source = FileBlockSource.open(img);
  try {
    return await checkFat(source);
  } finally {
    source.close();
  }
}

/**
 * The code each injected fault must be reported with (and no other): the fault
 * classes of fixtures/make-fsck-corpus.js, each of which breaks exactly one rule.
 */
const EXPECTED_CODE: Record<string, string> = {
  'fat-mismatch': 'E_FSCK_FAT_MISMATCH', media: 'E_FSCK_MEDIA', dirty: 'E_FSCK_DIRTY', 'bad-name': 'E_FSCK_BAD_NAME', dot: 'E_FSCK_DOT',
  'dir-size': 'E_FSCK_DIR_SIZE', 'start-range': 'E_FSCK_START_CLUSTER', 'start-free': 'E_FSCK_START_CLUSTER', 'size-too-big': 'E_FSCK_CHAIN_SIZE',
  'chain-too-long': 'E_FSCK_CHAIN_SIZE', 'lfn-checksum': 'E_FSCK_LFN_ORPHAN', 'lfn-order': 'E_FSCK_LFN_ORPHAN', duplicate: 'E_FSCK_DUPLICATE',
  crosslink: 'E_FSCK_CROSSLINK', loop: 'E_FSCK_LOOP', 'chain-free': 'E_FSCK_CHAIN_RANGE', 'chain-invalid': 'E_FSCK_CHAIN_RANGE', 'chain-bad': 'E_FSCK_CHAIN_RANGE',
  lost: 'E_FSCK_LOST', 'label-mismatch': 'E_FSCK_LABEL', 'label-boot-only': 'E_FSCK_LABEL', 'label-root-only': 'E_FSCK_LABEL', 'label-invalid': 'E_FSCK_LABEL',
  'case-byte': 'E_FSCK_CASE_BYTE', 'case-byte-lfn': 'E_FSCK_CASE_BYTE', 'case-dot': 'E_FSCK_CASE_BYTE', 'lfn-reserved': 'E_FSCK_LFN_RESERVED',
  'boot-backup': 'E_FSCK_BOOT_BACKUP', 'fsinfo-free': 'E_FSCK_FSINFO', 'fsinfo-signature': 'E_FSCK_FSINFO', 'fsinfo-next': 'E_FSCK_FSINFO',
  'fsinfo-backup': 'E_FSCK_FSINFO_BACKUP', 'dotdot-root': 'E_FSCK_DOT',
};

/** Every regular file under `root` (an mcopy -s copy of an image). */
function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** Whether the shorter of two contents is a prefix of the longer: data kept up to where a repair cut or extended it. */
function prefixCompatible(a: Buffer, b: Buffer): boolean {
  const n = Math.min(a.length, b.length);
  return a.subarray(0, n).equals(b.subarray(0, n));
}

let dir = '';
let manifest: Manifest = { types: {}, images: [] };

describe.runIf(tools)('fsck fault corpus vs fsck.fat', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'diskkit-fsck-corpus-'));
    execFileSync(process.execPath, [script, dir], { stdio: 'ignore' });
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('covers every fault class on each FAT type it applies to', () => {
    const classes = new Set(manifest.images.map((i) => i.fault));
    expect(classes.size).toBeGreaterThanOrEqual(20);
    for (const type of ['fat12', 'fat16', 'fat32']) expect(manifest.images.filter((i) => i.fatType === type).length).toBeGreaterThanOrEqual(18);
  });

  it.each(['fat12', 'fat16', 'fat32'])('the clean %s image is clean for both tools', async (type) => {
    const img = join(dir, manifest.types[type]!.clean);
    expect(fsckFat(img)).toEqual({ status: 0, complaints: [] });
    const r = await diskkit(['fsck', img]);
    expect(r.exitCode).toBe(0);
  });

  it('detects every fault fsck.fat detects, and repairs each image to clean for both tools', async () => {
    const rows: string[] = [];
    const cleanTrees = new Map<string, (path: string) => Buffer>();
    for (const type of Object.keys(manifest.types)) cleanTrees.set(type, await mtoolsTree(join(dir, manifest.types[type]!.clean), join(dir, `tree-clean-${type}`)));
    const checkImage = async (image: ManifestImage): Promise<void> => {
      const img = join(dir, image.file);
      const [peer, check] = await Promise.all([fsckFatAsync(img), diskkit(['fsck', '--json', img])]);
      const peerDetects = peer.status !== 0 || peer.complaints.length > 0;
      const report = JSON.parse(check.stdout) as { clean: boolean; errors: { code: string }[] };
      // A fault was injected in every image: diskkit must always see it, and always when fsck.fat does,
      // under the code of its class and no other.
      expect({ image: image.file, exit: check.exitCode, clean: report.clean }).toEqual({ image: image.file, exit: 4, clean: false });
      if (peerDetects) expect(report.errors.length, image.file).toBeGreaterThan(0);
      expect({ image: image.file, codes: [...new Set(report.errors.map((e) => e.code))] }).toEqual({ image: image.file, codes: [EXPECTED_CODE[image.fault]] });

      const copy = join(dir, `repaired-${image.file}`);
      copyFileSync(img, copy);
      const repair = await diskkit(['fsck', '--repair', copy]);
      expect({ image: image.file, exit: repair.exitCode }, repair.stdout + repair.stderr).toEqual({ image: image.file, exit: 1 });
      const again = await checkInProcess(copy);
      expect({ image: image.file, clean: again.clean, errors: again.errors.map((e) => `${e.code} ${e.message}`) }).toEqual({ image: image.file, clean: true, errors: [] });
      const [peerAfter, repaired] = await Promise.all([fsckFatAsync(copy), mtoolsTree(copy, join(dir, `tree-${image.file}`))]);
      expect({ image: image.file, ...peerAfter }).toEqual({ image: image.file, status: 0, complaints: [] });

      const clean = cleanTrees.get(image.fatType)!;
      for (const path of image.untouched) {
        expect(repaired(path).equals(clean(path)), `${image.file}: ${path} changed`).toBe(true);
      }
      // Each touched file's data survives the repair up to the fault (cut or extended, possibly renamed):
      // some file of the repaired image agrees with it as far as both go.
      const after = filesUnder(join(dir, `tree-${image.file}`)).map((f) => readFileSync(f));
      for (const path of image.touches) {
        const original = clean(path);
        const kept = after.some((content) => content.length > 0 && prefixCompatible(content, original));
        // start-range and start-free free the file's clusters when the fault is made: nothing is left to keep.
        if (!['start-range', 'start-free'].includes(image.fault)) expect(kept, `${image.file}: the data of ${path} is gone`).toBe(true);
      }
      rows.push(image.file);
    };
    // A few images at a time: most of the time is process start-up.
    const queue = [...manifest.images];
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await checkImage(next);
    }));
    expect(rows.length).toBe(manifest.images.length);
  }, 900_000);
});

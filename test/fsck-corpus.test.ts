/**
 * The fsck fault corpus against fsck.fat: every image made by
 * fixtures/make-fsck-corpus.js carries one injected fault. diskkit must find every
 * fault fsck.fat -n finds (exit 4), and after `diskkit fsck --repair` both diskkit and
 * fsck.fat -n must call the image clean while every file the fault did not touch
 * reads back (through mtools) byte-identical to the clean image.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

function mtype(img: string, path: string): Buffer {
  return execFileSync('mtype', ['-i', img, `::${path}`], { env, maxBuffer: 1 << 26 });
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
    const checkImage = async (image: ManifestImage): Promise<void> => {
      const img = join(dir, image.file);
      const peer = fsckFat(img);
      const peerDetects = peer.status !== 0 || peer.complaints.length > 0;
      const check = await diskkit(['fsck', '--json', img]);
      const report = JSON.parse(check.stdout) as { clean: boolean; errors: { code: string }[] };
      // A fault was injected in every image: diskkit must always see it, and always when fsck.fat does.
      expect({ image: image.file, exit: check.exitCode, clean: report.clean }).toEqual({ image: image.file, exit: 4, clean: false });
      if (peerDetects) expect(report.errors.length, image.file).toBeGreaterThan(0);

      const copy = join(dir, `repaired-${image.file}`);
      copyFileSync(img, copy);
      const repair = await diskkit(['fsck', '--repair', copy]);
      expect({ image: image.file, exit: repair.exitCode }, repair.stdout + repair.stderr).toEqual({ image: image.file, exit: 1 });
      const again = await diskkit(['fsck', copy]);
      expect({ image: image.file, exit: again.exitCode }, again.stdout).toEqual({ image: image.file, exit: 0 });
      expect({ image: image.file, ...fsckFat(copy) }).toEqual({ image: image.file, status: 0, complaints: [] });

      const clean = join(dir, manifest.types[image.fatType]!.clean);
      for (const path of image.untouched) {
        expect(mtype(copy, path).equals(mtype(clean, path)), `${image.file}: ${path} changed`).toBe(true);
      }
      rows.push(image.file);
    };
    // A few images at a time: most of the time is process start-up.
    const queue = [...manifest.images];
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await checkImage(next);
    }));
    expect(rows.length).toBe(manifest.images.length);
  }, 180_000);
});

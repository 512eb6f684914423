/**
 * The lean start-up paths (src/quick-start.ts, the registry's lazy format loading,
 * scan statistics without a histogram for one-chunk scans) must not change what a
 * command does. A plain `ls -l -R IMG` runs without commander; `ls -lR IMG` (flags
 * combined) goes through commander: the two must print the same bytes and exit alike,
 * on success and on errors. The listing itself is checked against mtools elsewhere
 * (fat-read-cli.test.ts); here the commander path is the oracle for the quick one.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, diskkitBytes } from './helpers/cli.js';
import { LatencyHistogram } from '../src/io/scan-stats.js';

const FAT12 = fileURLToPath(new URL('../fixtures/fat12.img', import.meta.url));

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

async function both(quick: string[], viaCommander: string[]): Promise<void> {
  const [a, b] = await Promise.all([diskkitBytes(quick), diskkitBytes(viaCommander)]);
  expect(a.exitCode, `${quick.join(' ')}: ${text(a.stderr)}`).toBe(b.exitCode);
  expect(text(a.stdout)).toBe(text(b.stdout));
  expect(text(a.stderr)).toBe(text(b.stderr));
}

describe('plain ls without the command tree', () => {
  it('prints what the commander path prints: long, recursive, --json, all', async () => {
    await both(['ls', '-l', '-R', FAT12], ['ls', '-lR', FAT12]);
    await both(['--json', 'ls', '-R', '-a', FAT12], ['--json', 'ls', '-Ra', FAT12]);
    await both(['ls', `${FAT12}:/deep/l1`, '-l'], ['ls', '-l', '--', `${FAT12}:/deep/l1`]);
  });

  it('errors read and exit the same: a missing path, a missing image, --json error documents', async () => {
    await both(['ls', `${FAT12}:/no/such`], ['ls', '-lR', `${FAT12}:/no/such`]);
    await both(['ls', '/nonexistent/x.img'], ['ls', '-la', '/nonexistent/x.img']);
    await both(['--json', 'ls', `${FAT12}:/no/such`], ['--json', 'ls', '-la', `${FAT12}:/no/such`]);
  });

  it('info prints and exits as through commander: text, --json, a missing image', async () => {
    await both(['info', FAT12], ['info', '--', FAT12]);
    await both(['--json', 'info', FAT12], ['--json', 'info', '--', FAT12]);
    await both(['info', '/nonexistent/x.img'], ['info', '--', '/nonexistent/x.img']);
    await both(['--json', 'info', '/nonexistent/x.img'], ['--json', 'info', '--', '/nonexistent/x.img']);
  });

  it('fsck reports and exits as through commander: a clean image, a damaged one, --json, a missing image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-startup-'));
    try {
      // Cluster 5's entry in the first FAT only: the two FAT copies now differ (fsck.fat reports the same).
      const damaged = join(dir, 'damaged.img');
      copyFileSync(FAT12, damaged);
      const fd = openSync(damaged, 'r+');
      writeSync(fd, Buffer.from([0xff, 0x0f]), 0, 2, 512 + 6);
      closeSync(fd);
      const r = await diskkitBytes(['fsck', damaged]);
      expect(r.exitCode, text(r.stderr)).toBe(4);
      await both(['fsck', FAT12], ['fsck', '--', FAT12]);
      await both(['fsck', damaged], ['fsck', '--', damaged]);
      await both(['--json', 'fsck', damaged], ['--json', 'fsck', '--', damaged]);
      await both(['fsck', '/nonexistent/x.img'], ['fsck', '--', '/nonexistent/x.img']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves anything else to commander: no target, an unknown option, two targets are usage errors', async () => {
    for (const args of [['ls'], ['ls', '--bogus', FAT12], ['ls', FAT12, FAT12], ['info'], ['info', FAT12, FAT12], ['info', '-l', FAT12]]) {
      const r = await diskkitBytes(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(text(r.stderr)).toMatch(/^diskkit: /);
    }
    // fsck's usage errors keep fsck(8)'s code.
    for (const args of [['fsck'], ['fsck', FAT12, FAT12]]) {
      const r = await diskkitBytes(args);
      expect(r.exitCode, args.join(' ')).toBe(16);
      expect(text(r.stderr)).toMatch(/^diskkit: /);
    }
  });
});

/** Every file and directory under `root`: relative path, type, bytes (files) and modification time. */
function treeOf(root: string): string[] {
  const out: string[] = [];
  for (const rel of (readdirSync(root, { recursive: true }) as string[]).sort()) {
    const st = statSync(join(root, rel));
    out.push(`${rel} ${st.isDirectory() ? 'dir' : Buffer.from(readFileSync(join(root, rel))).toString('base64')} ${st.mtimeMs}`);
  }
  return out;
}

describe('plain cp out of an image without the command tree', () => {
  it('writes the same tree and prints and exits as through commander: -r, --json, errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-startup-cp-'));
    try {
      const quick = join(dir, 'quick');
      const slow = join(dir, 'slow');
      await both(['cp', '-r', `${FAT12}:/`, quick], ['cp', '-r', '--', `${FAT12}:/`, slow]);
      const tree = treeOf(quick);
      expect(tree.length).toBeGreaterThan(3);
      expect(tree).toEqual(treeOf(slow));
      await both(['--json', 'cp', '-r', `${FAT12}:/deep`, join(dir, 'q2')], ['--json', 'cp', '-r', '--', `${FAT12}:/deep`, join(dir, 's2')]);
      expect(treeOf(join(dir, 'q2'))).toEqual(treeOf(join(dir, 's2')));
      await both(['cp', `${FAT12}:/no/such`, join(dir, 'q3')], ['cp', '--', `${FAT12}:/no/such`, join(dir, 's3')]);
      await both(['--json', 'cp', `${FAT12}:/deep`, join(dir, 'q4')], ['--json', 'cp', '--', `${FAT12}:/deep`, join(dir, 's4')]);
      await both(['cp', '/nonexistent/x.img:/a', join(dir, 'q5')], ['cp', '--', '/nonexistent/x.img:/a', join(dir, 's5')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the quick bundles and their V8 code cache (scripts/bundle-quick-start.js)', () => {
  const cacheUsed = async (bin: string, bundle: string) =>
    (await execa('node', ['-e', `process.stdout.write(String(require(${JSON.stringify(bin)}).loadQuickBundle(${JSON.stringify(bundle)}).cacheUsed))`], { reject: false })).stdout;

  it('the build leaves a code cache this Node takes, for every bundle', async () => {
    expect(await cacheUsed(BIN, 'quick-start')).toBe('true');
    expect(await cacheUsed(BIN, 'quick-fsck')).toBe('true');
    expect(await cacheUsed(BIN, 'quick-cp')).toBe('true');
  });

  it('a cache from another build of the bundle is not used, and the listing is the same without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-stale-cache-'));
    try {
      // bin/ and the bundle copied side by side as in the package; the bundle rebuilt
      // with another build id (its last line) while the cache still names the old one.
      cpSync(fileURLToPath(new URL('../bin/', import.meta.url)), join(dir, 'bin'), { recursive: true });
      mkdirSync(join(dir, 'dist'));
      const dist = fileURLToPath(new URL('../dist/', import.meta.url));
      const bundleText = readFileSync(dist + 'quick-start.bundle.cjs', 'utf8');
      writeFileSync(join(dir, 'dist', 'quick-start.bundle.cjs'), bundleText.replace(/[0-9a-f]+$/, (id) => (id[0] === '0' ? '1' : '0') + id.slice(1)));
      copyFileSync(dist + 'quick-start.bundle.v8cache', join(dir, 'dist', 'quick-start.bundle.v8cache'));
      copyFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), join(dir, 'package.json'));
      const staleBin = join(dir, 'bin', 'diskkit.js');
      expect(await cacheUsed(staleBin, 'quick-start')).toBe('false');
      const [stale, built] = await Promise.all([
        execa('node', [staleBin, 'ls', '-l', '-R', FAT12], { reject: false, env: { NO_COLOR: '1' } }),
        diskkitBytes(['ls', '-l', '-R', FAT12]),
      ]);
      expect(stale.exitCode, stale.stderr).toBe(0);
      expect(stale.stdout + '\n').toBe(text(built.stdout));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scan latency histogram', () => {
  it('keeps the first sample when the second one makes the histogram', () => {
    const h = new LatencyHistogram();
    h.add(1);
    expect(h.summary()).toMatchObject({ count: 1, p50: 1, max: 1 });
    h.add(100);
    h.add(100);
    const s = h.summary();
    expect(s.count).toBe(3);
    // One third of the samples is 1 ms: the 30th percentile falls in its bucket (within the 9% bucket width).
    expect(h.quantile(0.3)).toBeGreaterThanOrEqual(1);
    expect(h.quantile(0.3)).toBeLessThan(1.1);
    expect(s.p99).toBe(100);
    expect(s.max).toBe(100);
  });
});

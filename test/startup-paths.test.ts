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
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, writeFileSync, writeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, diskkit, diskkitBytes } from './helpers/cli.js';
import { LatencyHistogram } from '../src/io/scan-stats.js';

const FAT12 = fileURLToPath(new URL('../fixtures/fat12.img', import.meta.url));

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

async function both(quick: string[], viaCommander: string[]): Promise<void> {
  const [a, b] = await Promise.all([diskkitBytes(quick), diskkitBytes(viaCommander)]);
  expect(a.exitCode, `${quick.join(' ')}: ${text(a.stderr)}`).toBe(b.exitCode);
  expect(text(a.stdout)).toBe(text(b.stdout));
  expect(text(a.stderr)).toBe(text(b.stderr));
}

/**
 * An mkfs argument list split into its options (each with its value) and its arguments,
 * for the commander form `mkfs OPTIONS -- IMAGE [BLOCKS]` (the quick path leaves `--`
 * to commander).
 */
function splitMkfsWords(words: string[]): { options: string[]; positional: string[] } {
  const flags = new Set(['-C', '--invariant', '--force', '-q', '--json']);
  const options: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (!words[i]!.startsWith('-')) positional.push(words[i]!);
    else if (flags.has(words[i]!)) options.push(words[i]!);
    else options.push(words[i]!, words[++i]!);
  }
  return { options, positional };
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

  it('compact compacts and reports as through commander: the same output and the same image, fsck clean; a FAT image is refused alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-startup-'));
    try {
      // A half-deleted cartridge (uncompressed, so every file is extents that must move down).
      const tree = join(dir, 'tree');
      mkdirSync(tree);
      for (let i = 0; i < 8; i++) writeFileSync(join(tree, `part-${i}.bin`), Buffer.alloc(1 << 20, i + 1));
      const template = join(dir, 'template.cart');
      expect((await diskkitBytes(['mkfs', '--type', 'cartridge', '--compress', 'none', template, '--from', tree])).exitCode).toBe(0);
      expect((await diskkitBytes(['rm', ...[0, 2, 4, 6].map((i) => `${template}:/part-${i}.bin`)])).exitCode).toBe(0);
      const img = join(dir, 'img.cart');
      const run = async (args: string[]) => {
        copyFileSync(template, img);
        const r = await diskkitBytes(args);
        const listing = await diskkitBytes(['ls', '-l', img]);
        const fsck = await diskkitBytes(['fsck', img]);
        return { r, listing: text(listing.stdout), fsck: fsck.exitCode, size: readFileSync(img).length };
      };
      const quick = await run(['compact', img]);
      const viaCommander = await run(['compact', '--', img]);
      expect(quick.r.exitCode, text(quick.r.stderr)).toBe(0);
      expect(text(quick.r.stdout)).toMatch(/ -> \d+ bytes .* extents? and .* moved in /);
      expect(text(quick.r.stdout)).toBe(text(viaCommander.r.stdout));
      // Half the data was removed: the file ends up at most a little over half its size.
      expect(quick.size).toBeLessThan(readFileSync(template).length * 0.6);
      expect(quick.size).toBe(viaCommander.size);
      expect(quick.listing).toBe(viaCommander.listing);
      expect([quick.fsck, viaCommander.fsck]).toEqual([0, 0]);
      await both(['--json', 'compact', FAT12], ['--json', 'compact', '--', FAT12]);
      await both(['compact', '/nonexistent/x.cart'], ['compact', '--', '/nonexistent/x.cart']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--no-sync cp -r into FAT (quick path) writes the image the commander path writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-startup-'));
    try {
      const tree = join(dir, 'tree');
      mkdirSync(join(tree, 'sub'), { recursive: true });
      for (let i = 0; i < 40; i++) writeFileSync(join(tree, i % 2 ? 'sub' : '', `file ${i}.txt`), Buffer.alloc(100 + i * 97, 97 + (i % 26)));
      const images: Buffer[] = [];
      for (const prefix of [[], ['--']]) {
        const img = join(dir, `fat-${prefix.length}.img`);
        copyFileSync(FAT12, img);
        const r = await diskkitBytes(['--no-sync', 'cp', '-r', ...prefix, `${tree}/.`, `${img}:/`], { SOURCE_DATE_EPOCH: '1700000000' });
        expect(r.exitCode, text(r.stderr)).toBe(0);
        expect(text(r.stdout) + text(r.stderr)).toBe('');
        images.push(readFileSync(img));
      }
      expect(images[0]!.equals(readFileSync(FAT12))).toBe(false);
      expect(images[0]!.equals(images[1]!)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cp in, out and -r copies what the commander path copies; errors read and exit the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-startup-'));
    try {
      const tree = join(dir, 'tree');
      mkdirSync(join(tree, 'sub'), { recursive: true });
      const big = Buffer.alloc(3 << 20);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 12)) & 0xff;
      writeFileSync(join(tree, 'big.bin'), big);
      writeFileSync(join(tree, 'sub', 'small.txt'), 'small file\n');
      const results: { listing: string; big: Buffer; small: string }[] = [];
      for (const [label, prefix] of [['quick', []], ['commander', ['--']]] as const) {
        const img = join(dir, `${label}.cart`);
        const out = join(dir, `out-${label}`);
        expect((await diskkitBytes(['mkfs', '--type', 'cartridge', img])).exitCode).toBe(0);
        for (const args of [['cp', ...prefix, join(tree, 'big.bin'), `${img}:/big.bin`], ['cp', '-r', ...prefix, join(tree, 'sub'), `${img}:/sub`], ['cp', '-r', ...prefix, `${img}:/`, out]]) {
          const r = await diskkitBytes(args);
          expect(r.exitCode, `${args.join(' ')}: ${text(r.stderr)}`).toBe(0);
          expect(text(r.stdout) + text(r.stderr)).toBe('');
        }
        results.push({ listing: text((await diskkitBytes(['ls', '-R', img])).stdout), big: readFileSync(join(out, 'big.bin')), small: readFileSync(join(out, 'sub', 'small.txt'), 'utf8') });
      }
      expect(results[0]!.big.equals(big)).toBe(true);
      expect(results[0]!.small).toBe('small file\n');
      expect(results[0]).toEqual(results[1]);
      await both(['cp', `${FAT12}:/no/such`, join(dir, 'x')], ['cp', '--', `${FAT12}:/no/such`, join(dir, 'x')]);
      await both(['--json', 'cp', join(dir, 'missing'), `${join(dir, 'quick.cart')}:/m`], ['--json', 'cp', '--', join(dir, 'missing'), `${join(dir, 'quick.cart')}:/m`]);
      await both(['cp', join(dir, 'a'), join(dir, 'b')], ['cp', '--', join(dir, 'a'), join(dir, 'b')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cat writes what the commander path writes, from FAT and Cartridge images; errors read and exit the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-startup-'));
    try {
      const img = join(dir, 'cat.cart');
      const bytes = Buffer.alloc((1 << 20) + 12345);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 10)) & 0xff;
      writeFileSync(join(dir, 'data.bin'), bytes);
      expect((await diskkitBytes(['mkfs', '--type', 'cartridge', img])).exitCode).toBe(0);
      expect((await diskkitBytes(['cp', join(dir, 'data.bin'), `${img}:/data.bin`])).exitCode).toBe(0);
      const quick = await diskkitBytes(['cat', `${img}:/data.bin`]);
      expect(quick.exitCode, text(quick.stderr)).toBe(0);
      expect(Buffer.from(quick.stdout).equals(bytes)).toBe(true);
      await both(['cat', `${img}:/data.bin`], ['cat', '--', `${img}:/data.bin`]);
      await both(['cat', `${FAT12}:/UPPER.TXT`], ['cat', '--', `${FAT12}:/UPPER.TXT`]);
      await both(['cat', `${FAT12}:/no/such`], ['cat', '--', `${FAT12}:/no/such`]);
      await both(['cat', FAT12], ['cat', '--', FAT12]);
      await both(['--json', 'cat', `${img}:/`], ['--json', 'cat', '--', `${img}:/`]);
      await both(['cat', join(dir, 'missing.img:/x')], ['cat', '--', join(dir, 'missing.img:/x')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mkfs makes what the commander path makes: the same image bytes (--invariant), the same report; errors read and exit the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-startup-'));
    try {
      // The same relative image name in two directories, so the reports name it alike.
      const quickDir = join(dir, 'quick');
      const commanderDir = join(dir, 'commander');
      mkdirSync(quickDir);
      mkdirSync(commanderDir);
      const cases: string[][] = [
        ['mkfs', 'floppy.img', '--size', '1.44M', '-n', 'BOOT', '--invariant'],
        ['--json', 'mkfs', 'fat16.img', '--size', '64M', '--invariant'],
        ['mkfs', 'fat32.img', '--size', '64M', '--type', 'fat32', '--cluster-size', '512', '--invariant', '-q'],
        ['mkfs', '-C', '-F', '12', '-n', 'OLD', '-s', '4', '-r', '112', 'spelled.img', '1440', '--invariant'],
        ['mkfs', 'new.cart', '--type', 'cartridge', '--compress', 'none', '--invariant'],
        // Errors: a bad size, an existing image, cartridge options on FAT, a bad -F.
        ['mkfs', 'bad.img', '--size', '32Q'],
        ['mkfs', 'floppy.img', '--size', '1.44M'],
        ['--json', 'mkfs', 'c.img', '--size', '1M', '--compress', 'zstd'],
        ['mkfs', 'f.img', '1440', '-F', '13'],
      ];
      for (const args of cases) {
        const at = args.indexOf('mkfs') + 1;
        const { options, positional } = splitMkfsWords(args.slice(at));
        const viaCommanderArgs = [...args.slice(0, at), ...options, '--', ...positional];
        const [quick, viaCommander] = await Promise.all([diskkit(args, { cwd: quickDir }), diskkit(viaCommanderArgs, { cwd: commanderDir })]);
        expect(quick.exitCode, `${args.join(' ')}: ${quick.stderr}`).toBe(viaCommander.exitCode);
        expect(quick.stdout).toBe(viaCommander.stdout);
        expect(quick.stderr).toBe(viaCommander.stderr);
      }
      expect(readdirSync(quickDir).sort()).toEqual(readdirSync(commanderDir).sort());
      for (const name of readdirSync(quickDir)) expect(readFileSync(join(quickDir, name)).equals(readFileSync(join(commanderDir, name))), name).toBe(true);
      expect(readdirSync(quickDir).length).toBe(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves anything else to commander: no target, an unknown option, two targets are usage errors', async () => {
    for (const args of [['ls'], ['ls', '--bogus', FAT12], ['ls', FAT12, FAT12], ['info'], ['info', FAT12, FAT12], ['info', '-l', FAT12], ['cp'], ['cp', `${FAT12}:/x`], ['cp', '--bogus', `${FAT12}:/x`, '/tmp/x'], ['cat'], ['cat', `${FAT12}:/UPPER.TXT`, `${FAT12}:/UPPER.TXT`], ['cat', '--bogus', `${FAT12}:/UPPER.TXT`], ['mkfs'], ['mkfs', '/tmp/x.img', '--size'], ['mkfs', '/tmp/x.img', '1440', '2880']]) {
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

describe('the quick bundles and their V8 code cache (scripts/bundle-quick-start.js)', () => {
  const cacheUsed = async (bin: string, bundle: string, variant: string | null = null) =>
    (await execa('node', ['-e', `process.stdout.write(String(require(${JSON.stringify(bin)}).loadQuickBundle(${JSON.stringify(bundle)}, { variant: ${JSON.stringify(variant)} }).cacheUsed))`], { reject: false })).stdout;

  it('the build leaves a code cache this Node takes, for every bundle', async () => {
    expect(await cacheUsed(BIN, 'quick-start')).toBe('true');
    expect(await cacheUsed(BIN, 'quick-fsck')).toBe('true');
    expect(await cacheUsed(BIN, 'quick-compact')).toBe('true');
    expect(await cacheUsed(BIN, 'quick-cp')).toBe('true');
    expect(await cacheUsed(BIN, 'quick-mkfs')).toBe('true');
    // ls and info also have one cache per format (bin/diskkit.js picks by the image's first bytes).
    for (const format of ['fat', 'cartridge', 'ntfs']) expect(await cacheUsed(BIN, 'quick-start', format), format).toBe('true');
    expect(existsSync(fileURLToPath(new URL('../dist/quick-start.bundle.ntfs.v8cache', import.meta.url)))).toBe(true);
  });

  it('a plain cat runs from the quick-cp bundle, without loading the command tree', async () => {
    // runQuickly answers false for anything it leaves to commander; a plain cat must be taken.
    const r = await execa('node', ['-e', `require(${JSON.stringify(BIN)}).loadQuickBundle('quick-cp').exports.runQuickly(['cat', ${JSON.stringify(`${FAT12}:/UPPER.TXT`)}]).then((taken) => process.stderr.write(String(taken)))`], { reject: false });
    expect(r.stderr).toBe('true');
    expect(r.stdout.length).toBeGreaterThan(0);
    expect(r.stdout).toBe((await execa('node', [BIN, 'cat', '--', `${FAT12}:/UPPER.TXT`])).stdout);
  });

  it('a plain mkfs runs from the quick-mkfs bundle; mkfs --from is left to commander', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diskkit-quick-mkfs-'));
    try {
      const taken = async (args: string[]) =>
        (await execa('node', ['-e', `require(${JSON.stringify(BIN)}).loadQuickBundle('quick-mkfs').exports.runQuickly(${JSON.stringify(args)}).then((taken) => process.stderr.write(String(taken)))`], { reject: false })).stderr;
      expect(await taken(['mkfs', join(dir, 'quick.img'), '--size', '1.44M', '-q'])).toBe('true');
      expect(readFileSync(join(dir, 'quick.img')).length).toBe(1474560);
      expect(await taken(['mkfs', join(dir, 'from.img'), '--from', dir])).toBe('false');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

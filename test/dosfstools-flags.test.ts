/**
 * fsck.fat's and mkfs.fat's everyday flags on diskkit fsck / mkfs: the same command
 * lines must give what dosfstools gives (layouts compared through minfo, verdicts
 * and exit codes through fsck.fat itself).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, diskkit } from './helpers/cli.js';
import { hasTool, requireTools } from './helpers/oracle.js';
import { expectFsckClean } from './helpers/fat-write.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'minfo');
const FAT12 = fileURLToPath(new URL('../fixtures/fat12.img', import.meta.url));
const MENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null' };
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-dosfs-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The fixture with one lost cluster (700, free in the fixture) marked end-of-chain in both FATs. */
function lostClusterImage(name: string): string {
  const img = join(work, name);
  copyFileSync(FAT12, img);
  const b = readFileSync(img);
  for (const fat of [512, 512 + 3 * 512]) {
    const at = fat + (700 * 3) / 2;
    b[at] = 0xff;
    b[at + 1] = (b[at + 1]! & 0xf0) | 0x0f;
  }
  writeFileSync(img, b);
  return img;
}

describe.runIf(HAVE)('fsck with fsck.fat flags', () => {
  it('-n checks only and finds what fsck.fat -n finds; -a -V repairs, verifies, and fsck.fat then finds nothing', async () => {
    const img = lostClusterImage('lost.img');
    const theirs = spawnSync('fsck.fat', ['-n', img], { encoding: 'utf8' });
    expect(theirs.stdout).toMatch(/Reclaimed 1 unused cluster/);
    const before = readFileSync(img);
    const check = await diskkit(['fsck', '-n', img]);
    expect(check.exitCode).toBe(4);
    expect(check.stdout).toMatch(/lost cluster starting at cluster 700/);
    expect(readFileSync(img).equals(before)).toBe(true);
    const fix = await diskkit(['fsck', '-a', '-V', '-w', '--free-lost', img]);
    expect(fix.exitCode, fix.stdout + fix.stderr).toBe(1);
    expect(fix.stdout).toMatch(/all errors corrected/);
    expectFsckClean(img);
    const json = await diskkit(['--json', 'fsck', '-V', img]);
    expect(JSON.parse(json.stdout).verify).toEqual({ clean: true, errors: [] });
    expect(json.exitCode).toBe(0);
  });

  it('-r without a terminal is a usage error (16), as is -a with -n', async () => {
    const img = lostClusterImage('lost-r.img');
    const r = await diskkit(['fsck', '-r', img], { stdin: 'ignore' });
    expect(r.exitCode).toBe(16);
    expect(r.stderr).toMatch(/^diskkit: .*-r asks before each repair and needs a terminal/m);
    const both = await diskkit(['fsck', '-a', '-n', img]);
    expect(both.exitCode).toBe(16);
    expect(both.stderr).toMatch(/^diskkit: .*do not go together/m);
  });

  it.runIf(hasTool('script'))('-r on a terminal shows the errors, asks, and repairs only on yes', async () => {
    const run = (img: string, answer: string) =>
      spawnSync('script', ['-qec', `node ${JSON.stringify(BIN)} fsck -r --free-lost ${JSON.stringify(img)}`, '/dev/null'], { input: answer, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const no = lostClusterImage('ask-no.img');
    const before = readFileSync(no);
    const r1 = run(no, 'n\n');
    expect(r1.stdout).toMatch(/E_FSCK_LOST 1 lost cluster starting at cluster 700[\s\S]*1 error found\. Repair\? \[y\/N\]/);
    expect(r1.status).toBe(4);
    expect(readFileSync(no).equals(before)).toBe(true);
    const yes = lostClusterImage('ask-yes.img');
    const r2 = run(yes, 'y\n');
    expect(r2.stdout).toMatch(/all errors corrected/);
    expect(r2.status).toBe(1);
    expectFsckClean(yes);
  });

  it('-l lists the paths fsck.fat -l lists', async () => {
    const ours = await diskkit(['fsck', '-l', FAT12]);
    expect(ours.exitCode).toBe(0);
    const pathOf = (line: string): string => line.replace(/^Checking file /, '').replace(/ \([^()]*\)$/, '').toUpperCase();
    const mine = ours.stdout.split('\n').filter((l) => l.startsWith('Checking file ')).map(pathOf);
    const theirs = spawnSync('fsck.fat', ['-n', '-l', FAT12], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith('Checking file ')).map(pathOf);
    // fsck.fat lists the volume label as a file and decodes the non-BMP name its own way.
    const comparable = (list: string[]) => list.filter((p) => p !== '/FIXTURE1.2' && !p.startsWith('/X')).sort();
    expect(comparable(mine)).toEqual(comparable(theirs));
    expect(mine.length).toBeGreaterThan(200);
  });
});

describe.runIf(HAVE)('mkfs with mkfs.fat spellings', () => {
  const minfo = (img: string): string =>
    execFileSync('minfo', ['-i', img, '::'], { env: MENV, encoding: 'utf8' }).split('\n').filter((l) => !/banner|filename|mformat|^ *mformat/.test(l)).join('\n');
  const cases: [string, string[], number][] = [
    ['floppy', ['-F', '12', '-n', 'BOOT', '-s', '4', '-r', '112', '-i', '12345678'], 1440],
    ['fat16 1K sectors', ['-F', '16', '-s', '2', '-S', '1024', '-r', '1024', '-i', '0BADF00D'], 20480],
    ['fat32', ['-F', '32', '-n', 'DATA', '-s', '1', '-i', '1234ABCD'], 40960],
    ['aligned root', ['-r', '700', '-i', '12345678'], 8192],
  ];
  for (const [name, args, kib] of cases) {
    it(`${name}: diskkit mkfs -C ${args.join(' ')} IMG ${kib} makes what mkfs.fat makes`, async () => {
      const ours = join(work, `${name.replace(/ /g, '-')}.dk.img`);
      const theirs = join(work, `${name.replace(/ /g, '-')}.mkfs.img`);
      const r = await diskkit(['mkfs', '-C', ...args, ours, String(kib)]);
      expect(r.exitCode, r.stderr).toBe(0);
      execFileSync('mkfs.fat', ['-C', ...args, theirs, String(kib)], { stdio: 'ignore' });
      expect(minfo(ours)).toBe(minfo(theirs));
      expectFsckClean(ours);
    });
  }

  it('-r is rounded up to whole root sectors (fsck.fat rejects a partial one), and refused on FAT32', async () => {
    const img = join(work, 'r100.img');
    const r = await diskkit(['--json', 'mkfs', '--root-entries', '100', img, '1440']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).rootEntryCount).toBe(112);
    expect(execFileSync('minfo', ['-i', img, '::'], { env: MENV, encoding: 'utf8' })).toMatch(/max available root directory slots: 112/);
    expectFsckClean(img);
    const refused = await diskkit(['mkfs', '-F', '32', '-r', '100', join(work, 'r32.img'), '40960']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/^diskkit: .*--root-entries is for FAT12\/16/m);
    const clash = await diskkit(['mkfs', '-F', '16', '--type', 'fat12', join(work, 'clash.img'), '4096']);
    expect(clash.exitCode).toBe(2);
    expect(clash.stderr).toMatch(/-F 16 and --type fat12 disagree/);
  });
});

/**
 * A full FAT12/16 root directory: copying many files into it reports one error per
 * file that did not fit (naming the file, not '/') and the hint once; `mkfs
 * --root-entries N` (mkfs.fat -r) makes the larger root the hint talks about, with
 * the layout mkfs.fat makes (compared through minfo).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { expectFsckClean, freshDir, MENV, mdirPaths } from './helpers/fat-write.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'minfo', 'mdir');
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-root-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function manyFiles(dir: string, n: number): string {
  const host = join(dir, 'many');
  mkdirSync(host);
  for (let i = 1; i <= n; i++) writeFileSync(join(host, `file${String(i).padStart(3, '0')}.txt`), `${i}\n`);
  return host;
}

/** The layout fields minfo prints, without the volume's identity. */
function layoutOf(img: string): string[] {
  const out = execFileSync('minfo', ['-i', img], { env: MENV, encoding: 'utf8' });
  return out.split('\n').filter((l) => /cluster size|root directory slots|sectors per fat|reserved|small size|big size|media descriptor|sectors per track|heads/.test(l)).map((l) => l.trim());
}

describe('a full FAT12/16 root directory', () => {
  it.runIf(HAVE)('one error per file that did not fit, naming it, and the hint once', async () => {
    const dir = freshDir('full-', work);
    const host = manyFiles(dir, 240);
    const img = join(dir, 'floppy.img');
    execFileSync('mkfs.fat', ['-C', img, '1440'], { stdio: 'ignore' });
    const r = await diskkit(['cp', '-r', `${host}/.`, `${img}:/`]);
    expect(r.exitCode).toBe(1);
    const lines = r.stderr.trim().split('\n');
    const errors = lines.filter((l) => l.startsWith(`diskkit: ${img}: `));
    // 224 root slots: the first 224 files fit, 16 do not
    expect(errors).toHaveLength(16);
    expect(new Set(errors.map((l) => /\(path (\/file\d+\.txt)\)$/.exec(l)?.[1])).size).toBe(16);
    expect(lines.filter((l) => l.startsWith('diskkit: hint:'))).toEqual(['diskkit: hint: put files in a subdirectory, or make the image with more root entries (diskkit mkfs --root-entries N)']);
    expect(lines.at(-1)).toMatch(/^diskkit: hint:/);
    expect(mdirPaths(img)).toHaveLength(224);
    expectFsckClean(img);
  });

  it.runIf(HAVE)('mkfs --root-entries makes mkfs.fat -r\'s layout (rounded to whole sectors) and holds them all', async () => {
    const dir = freshDir('entries-', work);
    const cases: [string, string, string, string][] = [['1.44M', '300', '1440', '304'], ['64M', '1000', '65536', '1000']];
    for (const [size, entries, kib, peerEntries] of cases) {
      const ours = join(dir, `ours-${entries}.img`);
      const peer = join(dir, `peer-${entries}.img`);
      const r = await diskkit(['--json', 'mkfs', ours, '--size', size, '--root-entries', entries]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(spawnSync('mkfs.fat', ['-C', '-r', peerEntries, peer, kib]).status).toBe(0);
      expect(layoutOf(ours)).toEqual(layoutOf(peer));
      expect(JSON.parse(r.stdout).rootEntryCount).toBeGreaterThanOrEqual(Number(entries));
      expectFsckClean(ours);
    }
    const host = manyFiles(dir, 240);
    const img = join(dir, 'ours-300.img');
    const cp = await diskkit(['cp', '-r', `${host}/.`, `${img}:/`]);
    expect([cp.exitCode, cp.stderr]).toEqual([0, '']);
    expect(mdirPaths(img)).toHaveLength(240);
    expectFsckClean(img);
  });

  it('--root-entries is refused where FAT32 would be made, and out of range', async () => {
    const dir = freshDir('refused-', work);
    const big = await diskkit(['mkfs', join(dir, 'a.img'), '--size', '1G', '--root-entries', '300']);
    expect(big.exitCode).toBe(2);
    expect(big.stderr).toMatch(/^diskkit: .*--root-entries is for FAT12\/16/m);
    const zero = await diskkit(['mkfs', join(dir, 'b.img'), '--size', '1.44M', '--root-entries', '0']);
    expect(zero.exitCode).toBe(2);
  });
});

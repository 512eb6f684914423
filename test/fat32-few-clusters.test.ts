/**
 * FAT32 below 65,525 clusters: `mkfs.fat -F 32` makes it (with a warning) on small
 * volumes, and Linux, mtools and fsck.fat take it as FAT32 by its layout (no 16-bit FAT
 * size, no fixed root directory), not as FAT16 by its cluster count. diskkit must read
 * and write it as they do. fsck.fat is the oracle (mtools 4.0 lists the root of such a
 * volume but finds no file on it, The Sleuth Kit cannot tell its type, and this kernel
 * has no vfat): its cluster counts, its clean check and its file list (`-l`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from './helpers/oracle.js';
import { diskkit } from './helpers/cli.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat');
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-small32-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(HAVE)('FAT32 with fewer than 65,525 clusters (mkfs.fat -F 32 on a small volume)', () => {
  it('is read and written as FAT32, as fsck.fat and mtools see it', async () => {
    const image = join(dir, 'small32.img');
    execFileSync('mkfs.fat', ['-C', '-F', '32', '-s', '1', image, '32800'], { stdio: 'ignore' });
    const clean = execFileSync('fsck.fat', ['-n', image], { encoding: 'utf8' });
    const [, used, total] = /(\d+)\/(\d+) clusters/.exec(clean)!;
    expect(Number(total)).toBeLessThan(65525);
    const info = JSON.parse((await diskkit(['--json', 'info', image])).stdout);
    expect([info.fatType, info.clusters.total, info.clusters.used]).toEqual(['FAT32', Number(total), Number(used)]);

    const host = join(dir, 'in.txt');
    writeFileSync(host, 'written by diskkit\n'.repeat(100));
    expect((await diskkit(['mkdir', `${image}:/sub`])).exitCode).toBe(0);
    const cp = await diskkit(['cp', host, `${image}:/sub/in.txt`]);
    expect(cp.exitCode, cp.stderr).toBe(0);
    const listed = execFileSync('fsck.fat', ['-n', '-l', image], { encoding: 'utf8' });
    expect(listed.split('\n').filter((l) => l.startsWith('Checking file ')).map((l) => l.slice(14))).toEqual(['/', '/SUB', '/SUB/IN.TXT']);
    expect((await diskkit(['cat', `${image}:/sub/in.txt`])).stdout).toBe('written by diskkit\n'.repeat(100).trimEnd());
    const fsck = await diskkit(['fsck', image]);
    expect(fsck.exitCode, fsck.stdout).toBe(0);
  });
});

/**
 * A FAT12/16 root directory whose entry count does not fill whole sectors (mkfs.fat -r
 * keeps such counts). fatgen103 rounds the root up to whole sectors; mtools rounds it
 * down, so its data area starts inside what the others read as root directory. fsck
 * must not call such a volume clean: fsck.fat refuses counts that are not a multiple of
 * 16, and with a 1024-byte sector it shows mtools' file bytes as root entries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'mcopy');
const MENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null' };
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-rootsec-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function mkfs(name: string, args: string[], kib: number): string {
  const img = join(work, name);
  execFileSync('mkfs.fat', ['-C', ...args, img, String(kib)], { stdio: 'ignore' });
  return img;
}

async function fsckCodes(img: string): Promise<{ exitCode: number | undefined; codes: string[] }> {
  const r = await diskkit(['fsck', '--json', img]);
  return { exitCode: r.exitCode, codes: JSON.parse(r.stdout).errors.map((e: { code: string }) => e.code) };
}

describe('fsck: a root directory that does not fill whole sectors', () => {
  it.runIf(HAVE)('-r 17 on 512-byte sectors: fsck.fat refuses the volume, diskkit reports it (exit 4); -r 32 is clean for both', async () => {
    const odd = mkfs('r17.img', ['-F', '12', '-r', '17'], 1440);
    const even = mkfs('r32.img', ['-F', '12', '-r', '32'], 1440);
    const peerOdd = spawnSync('fsck.fat', ['-n', odd], { encoding: 'utf8' });
    expect(peerOdd.status).not.toBe(0);
    expect(peerOdd.stdout + peerOdd.stderr).toMatch(/Root directory/);
    expect(await fsckCodes(odd)).toEqual({ exitCode: 4, codes: ['E_FSCK_BOOT'] });
    expect(spawnSync('fsck.fat', ['-n', even]).status).toBe(0);
    expect(await fsckCodes(even)).toEqual({ exitCode: 0, codes: [] });
  });

  it.runIf(HAVE)('-r 48 on 1024-byte sectors: a file mcopy writes lands in the root as fsck.fat reads it; diskkit reports the layout', async () => {
    const img = mkfs('r48.img', ['-F', '12', '-S', '1024', '-s', '8', '-r', '48'], 8192);
    expect(await fsckCodes(img)).toEqual({ exitCode: 4, codes: ['E_FSCK_BOOT'] });
    const host = join(work, 'h.txt');
    writeFileSync(host, 'hello\n');
    execFileSync('mcopy', ['-i', img, host, '::/'], { env: MENV });
    const peer = spawnSync('fsck.fat', ['-n', img], { encoding: 'utf8' });
    // mtools put the first cluster where fsck.fat (and fatgen103) still see root entries.
    expect(peer.stdout + peer.stderr).toMatch(/Bad short file name \(hello/);
    expect((await fsckCodes(img)).codes).toContain('E_FSCK_BOOT');
  });
});

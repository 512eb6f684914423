/**
 * What users read: counts agree with their nouns ("1 sector", "1 run"), and the demo
 * writes no escape codes into a pipe.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';

const HAVE = requireTools('mkfs.fat');
const DEMO = fileURLToPath(new URL('../scripts/demo.js', import.meta.url));

describe('wording', () => {
  it.runIf(requireTools('mkfs.fat', 'mcopy', 'minfo'))('a full volume says "need 1 cluster", not "need 1 clusters"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-words-'));
    try {
      const img = join(dir, 'floppy.img');
      execFileSync('mkfs.fat', ['-C', img, '1440'], { stdio: 'ignore' });
      const menv = { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null' };
      // mtools fills every free cluster: minfo's free count times its cluster size.
      const minfo = execFileSync('minfo', ['-i', img, '::'], { env: menv, encoding: 'utf8' });
      const clusterSectors = Number(/cluster size: (\d+) sectors?/.exec(minfo)![1]);
      const free = execFileSync('mdir', ['-i', img, '::'], { env: menv, encoding: 'utf8' });
      const freeBytes = Number(/([\d ]+) bytes free/.exec(free)![1]!.replace(/ /g, ''));
      expect(freeBytes % (clusterSectors * 512)).toBe(0);
      const fill = join(dir, 'fill.bin');
      writeFileSync(fill, Buffer.alloc(freeBytes, 7));
      execFileSync('mcopy', ['-i', img, fill, '::/'], { env: menv });
      const one = join(dir, 'one.txt');
      writeFileSync(one, 'x');
      const r = await diskkit(['cp', one, `${img}:/`]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/need 1 cluster, 0 free/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(HAVE)('info and bench say "1 sector" and "1 run", not "1 sectors" and "1 runs"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-words-'));
    try {
      const img = join(dir, 'floppy.img');
      execFileSync('mkfs.fat', ['-C', img, '1440'], { stdio: 'ignore' });
      const info = await diskkit(['info', img]);
      expect(info.exitCode).toBe(0);
      expect(info.stdout).toMatch(/512 bytes \(1 sector\)/);
      expect(info.stdout).not.toMatch(/\b1 sectors\b/);
      const file = join(dir, 'f.bin');
      writeFileSync(file, Buffer.alloc(1 << 20, 1));
      const bench = await diskkit(['bench', file, '--runs', '1', '--seconds', '0.1']);
      expect(bench.exitCode).toBe(0);
      expect(bench.stdout).toMatch(/1 run each/);
      expect(bench.stdout).not.toMatch(/\b1 runs\b/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mkfs --from says "1 file and 1 directory", not "1 files and 1 directories"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-words-'));
    try {
      mkdirSync(join(dir, 'tree', 'sub'), { recursive: true });
      writeFileSync(join(dir, 'tree', 'sub', 'one.txt'), 'x');
      const r = await diskkit(['mkfs', join(dir, 'one.img'), '--from', join(dir, 'tree')]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/copied 1 file and 1 directory \(/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(HAVE)('the demo writes no escape codes into a pipe', async () => {
    const r = await execa('node', [DEMO], { reject: false, encoding: 'utf8', env: { NO_COLOR: undefined, FORCE_COLOR: undefined } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/# /);
    expect(r.stdout).not.toContain('\x1b');
    expect(r.stderr).not.toContain('\x1b');
  }, 120_000);
});

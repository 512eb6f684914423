/**
 * `mft index -o SECTORS` / `--offset-bytes BYTES`: an NTFS volume inside a disk image
 * at an offset, as The Sleuth Kit's `-o` reads it. The volume is made by mkntfs; the
 * rows must equal those of the bare volume, and the paths those of `fls -r -p -o`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from './helpers/oracle.js';
import { diskkit } from './helpers/cli.js';

const HAVE = requireTools('mkntfs', 'fls');
let work = '';
let volume = '';
let disk = '';
beforeAll(() => {
  if (!HAVE) return;
  work = mkdtempSync(join(tmpdir(), 'dk-mftoff-'));
  volume = join(work, 'vol.ntfs');
  disk = join(work, 'disk.img');
  execFileSync('truncate', ['-s', '16M', volume]);
  execFileSync('mkntfs', ['-F', '-q', '-Q', volume], { stdio: 'ignore' });
  // 3 MiB in front: sector 6144 of 512 bytes, 768 of 4096.
  writeFileSync(disk, Buffer.concat([Buffer.alloc(3 << 20), readFileSync(volume)]));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.runIf(HAVE)('mft index -o', () => {
  it('-o SECTORS, -o SECTORS@SIZE and --offset-bytes read the volume at that offset, as the bare volume reads', async () => {
    const bare = await diskkit(['mft', 'index', volume]);
    expect(bare.exitCode, bare.stderr).toBe(0);
    for (const args of [['-o', '6144'], ['-o', '768@4096'], ['--offset-bytes', String(3 << 20)]]) {
      const r = await diskkit(['mft', 'index', ...args, disk]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toBe(bare.stdout);
    }
  });

  it('lists the paths fls -r -p -o lists (fls adds $OrphanFiles and name:attribute rows)', async () => {
    const r = await diskkit(['mft', 'index', '-o', '6144', disk]);
    const ours = new Set(r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { path: string }).path).filter((p) => p !== '/'));
    const theirs = new Set(
      execFileSync('fls', ['-r', '-p', '-o', '6144', disk], { encoding: 'utf8' })
        .split('\n')
        .map((l) => /^\S\/\S (?:\* )?\S+:\t(.*)$/.exec(l)?.[1])
        .filter((p): p is string => p !== undefined && !p.startsWith('$OrphanFiles') && !p.slice(p.lastIndexOf('/') + 1).includes(':'))
        .map((p) => '/' + p),
    );
    expect(theirs.size).toBeGreaterThanOrEqual(10);
    for (const p of theirs) expect(ours.has(p), p).toBe(true);
    // Metadata files without an unnamed $DATA appear in fls only as name:attribute rows (see mft-real.test.ts).
    expect([...ours].filter((p) => !theirs.has(p)).sort()).toEqual(['/$Extend/$ObjId', '/$Extend/$Quota', '/$Extend/$Reparse', '/$Secure']);
  });

  it('an offset with no NTFS there, past the end, or given with --partition is refused', async () => {
    const wrong = await diskkit(['mft', 'index', '-o', '6143', disk]);
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toMatch(/^diskkit: .*no NTFS boot sector or FILE record at that offset \(offset 3145216\)$/m);
    const past = await diskkit(['mft', 'index', '-o', '999999', disk]);
    expect(past.exitCode).toBe(2);
    const both = await diskkit(['--partition', '1', 'mft', 'index', '-o', '6144', disk]);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toMatch(/--partition and an offset/);
    const bad = await diskkit(['mft', 'index', '-o', '12x', disk]);
    expect(bad.exitCode).toBe(2);
  });
});

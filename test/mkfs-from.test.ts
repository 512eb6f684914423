/**
 * `mkfs --from DIR` failure and sizing behaviour through the CLI: every problem is
 * listed (as cp -r lists them), --json gets an error document on stdout, and no
 * partly filled or failed image is left behind; with --partition the file system
 * fills the partition (auto sizing is for new image files). Checked with mtools.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskkit } from './helpers/cli.js';
import { requireTools } from './helpers/oracle.js';
import { freshDir, MENV } from './helpers/fat-write.js';

const HAVE = requireTools('mkfs.fat', 'fsck.fat', 'minfo', 'mtype', 'sfdisk');
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dk-mkfs-from-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function tree(dir: string, files: Record<string, string | Buffer>): string {
  const host = join(dir, 'tree');
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(join(host, path, '..'), { recursive: true });
    writeFileSync(join(host, path), data);
  }
  return host;
}

describe('mkfs --from', () => {
  it('lists every problem, prints the JSON error document and leaves no image', async () => {
    const dir = freshDir('problems-', work);
    // (Names FAT cannot store are stored changed, with a warning: fat-storable-names.test.ts; '...' has no storable form.)
    const host = tree(dir, { '...': 'no name left', 'OK.TXT': 'f', 'ok.txt': 'c', 'sub/fine.txt': 'fine', 'sub/. .': 'none either' });
    const img = join(dir, 'out.img');
    const human = await diskkit(['mkfs', img, '--from', host]);
    expect(human.exitCode).toBe(1);
    const problems = human.stderr.split('\n').filter((l) => l.startsWith(`diskkit: ${img}: `));
    // three problems, each on its own line, then the summary
    expect(problems).toHaveLength(4);
    expect(problems[3]).toMatch(/3 problems copying .*no image was left/);
    expect(existsSync(img)).toBe(false);

    const json = await diskkit(['--json', 'mkfs', img, '--from', host]);
    expect(json.exitCode).toBe(1);
    const doc = JSON.parse(json.stdout);
    expect(doc.exitCode).toBe(1);
    expect(doc.error.image).toBe(img);
    expect(doc.error.context.errors.map((e: { code: string; path: string }) => `${e.code} ${e.path}`).sort()).toEqual(['E_BAD_NAME /...', 'E_BAD_NAME /sub/. .', 'E_NAME_CLASH /ok.txt']);
    expect(existsSync(img)).toBe(false);
  });

  it('a tree larger than --size is refused before anything is written (E_NO_SPACE), leaving no image', async () => {
    const dir = freshDir('nospace-', work);
    const host = tree(dir, { 'big.bin': Buffer.alloc(3 * 1024 * 1024, 1), 'small.txt': 'x' });
    const img = join(dir, 'small.img');
    const r = await diskkit(['--json', 'mkfs', img, '--from', host, '--size', '2M']);
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('E_NO_SPACE');
    expect(r.stderr).toMatch(/^diskkit: .*does not fit/m);
    expect(existsSync(img)).toBe(false);
  });

  it('an existing empty file given to mkfs --from goes back to empty when the fill fails', async () => {
    const dir = freshDir('empty-', work);
    const host = tree(dir, { '...': 'no storable name' });
    const img = join(dir, 'empty.img');
    writeFileSync(img, '');
    const r = await diskkit(['mkfs', img, '--from', host, '--size', '1M']);
    expect(r.exitCode).toBe(1);
    expect(statSync(img).size).toBe(0);
  });

  it.runIf(HAVE)('with --partition the volume fills the partition, not an auto size', async () => {
    const dir = freshDir('partition-', work);
    const host = tree(dir, { 'etc/hostname': 'box\n' });
    const disk = join(dir, 'disk.img');
    execFileSync('truncate', ['-s', '320M', disk]);
    execFileSync('sfdisk', ['-q', disk], { input: 'start=2048, size=614400, type=c\n' });
    const r = await diskkit(['--json', '--partition', '1', 'mkfs', disk, '--from', host, '--force']);
    expect(r.exitCode, r.stderr).toBe(0);
    const info = execFileSync('minfo', ['-i', `${disk}@@1M`], { env: MENV, encoding: 'utf8' });
    const sectors = Number(/big size: (\d+) sectors/.exec(info)?.[1] ?? /small size: (\d+) sectors/.exec(info)?.[1]);
    // mkfs.fat-style rounding to whole tracks may drop less than one track of the 614400 sectors
    expect(sectors).toBeGreaterThan(614400 - 64);
    expect(sectors).toBeLessThanOrEqual(614400);
    expect(JSON.parse(r.stdout).volumeBytes).toBe(sectors * 512);
    expect(execFileSync('mtype', ['-i', `${disk}@@1M`, '::/etc/hostname'], { env: MENV, encoding: 'utf8' })).toBe('box\n');
    const auto = await diskkit(['--partition', '1', 'mkfs', disk, '--from', host, '--force', '--size', 'auto']);
    expect(auto.exitCode).toBe(2);
    expect(auto.stderr).toMatch(/^diskkit: .*--size auto/m);
  });

  it.runIf(HAVE)('a symbolic link in the tree is left out with a warning, never silently', async () => {
    const dir = freshDir('links-', work);
    const host = tree(dir, { 'real.txt': 'real' });
    symlinkSync('real.txt', join(host, 'link.txt'));
    const img = join(dir, 'links.img');
    const r = await diskkit(['mkfs', img, '--from', host]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^diskkit: .*warning: .*link\.txt: symbolic link not copied/m);
    const json = await diskkit(['--json', 'mkfs', join(dir, 'links2.img'), '--from', host]);
    expect(JSON.parse(json.stdout).filled.skipped).toEqual([{ path: join(host, 'link.txt'), reason: expect.stringMatching(/symbolic link/) }]);
  });
});

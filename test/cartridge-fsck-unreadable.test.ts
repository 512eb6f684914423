/**
 * fsck on a Cartridge image that does not open (truncated before the pages its commit
 * needs; a meta page whose free-list pointer lies past the end, found by
 * scripts/fuzz.js --kinds cart): one E_FSCK_UNREADABLE finding, left uncorrected, so
 * exit 4 as fsck(8) says — with and without --repair, in text and --json alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskkit } from './helpers/cli.js';

let dir = '';
let image = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-cart-fsck-'));
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(src, 'sub', `f${i}.txt`), `file ${i}\n`.repeat(200 * (i + 1)));
  image = join(dir, 'a.cart');
  const made = await diskkit(['mkfs', image, '--type', 'cartridge', '--from', src]);
  expect(made.exitCode, made.stderr).toBe(0);
  const pages = statSync(image).size / 4096;
  expect(pages).toBeGreaterThan(4);
  truncateSync(image, 4 * 4096);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fsck of a Cartridge image that does not open', () => {
  it('reports the finding as not corrected and exits 4', async () => {
    const r = await diskkit(['fsck', image]);
    expect(r.stdout).toMatch(/^E_FSCK_UNREADABLE image is truncated: 4 pages, the commit needs \d+\n/);
    expect(r.stdout).toContain('(1 error, not corrected)');
    expect(r.exitCode).toBe(4);
  });

  it('--json lists it under uncorrected, exitCode 4', async () => {
    const r = await diskkit(['--json', 'fsck', image]);
    const doc = JSON.parse(r.stdout) as { clean: boolean; errors: { code: string }[]; uncorrected: { code: string }[]; exitCode: number };
    expect(doc.clean).toBe(false);
    expect(doc.uncorrected).toEqual(doc.errors);
    expect(doc.errors.map((e) => e.code)).toEqual(['E_FSCK_UNREADABLE']);
    expect(doc.exitCode).toBe(4);
    expect(r.exitCode).toBe(4);
  });

  it('--repair cannot repair it: NOT FIXED, exit 4, the image untouched', async () => {
    const r = await diskkit(['fsck', '--repair', image]);
    expect(r.stdout).toContain('NOT FIXED: E_FSCK_UNREADABLE');
    expect(r.exitCode).toBe(4);
    expect(statSync(image).size).toBe(4 * 4096);
  });
});

/**
 * The CI-sized run of scripts/fuzz.js (issue 12): FUZZ_CASES mutated images (2,000
 * by default) through every read command and fsck / fsck --repair as child
 * processes under a time and heap limit. Every case must end with a documented exit
 * code, only `diskkit:` lines on stderr, no stack trace, no change to the image by a
 * read-only command and no file outside the destination. The script prints one JSON
 * summary line last; failures are listed above it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { requireTools } from './helpers/oracle.js';

const tools = requireTools('mkfs.fat', 'mmd', 'mcopy');
const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const script = fileURLToPath(new URL('../scripts/fuzz.js', import.meta.url));

describe.runIf(tools)('fuzz (CI size)', () => {
  it('reruns alone, one Node per case, every case of a batch whose child died (here by SIGABRT at case 3)', async () => {
    const run = await promisify(execFile)(process.execPath, [script, '--cases', '14', '--seed', '77', '--jobs', '1', '--batch', '7'], {
      maxBuffer: 1 << 26,
      env: { ...process.env, DISKKIT_FUZZ_ABORT_AT: '3' },
    });
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { cases: number; failures: number; byRunner: Record<string, number>; rerunAlone: number };
    // A batch that did not end normally is not trusted for any of its cases: 0..6 are judged alone, 7..13 in the next batch.
    expect(summary).toMatchObject({ cases: 14, failures: 0, rerunAlone: 7, byRunner: { batch: 7, alone: 7 } });
  }, 600_000);

  it(`${CASES} mutated images: no crash, hang, stray stderr, or write where none belongs`, async () => {
    const run = await promisify(execFile)(process.execPath, [script, '--cases', String(CASES), '--seed', '20261206', '--jobs', '2'], { maxBuffer: 1 << 26 }).catch((e: { stdout: string; stderr: string }) => e);
    const lines = run.stdout.trim().split('\n');
    const summary = JSON.parse(lines.at(-1)!) as { cases: number; failures: number; byCommand: Record<string, number> };
    expect(lines.slice(0, -1), run.stderr).toEqual([]);
    expect(summary.failures).toBe(0);
    expect(summary.cases).toBe(CASES);
    // Cases rotate over 7 base images, then over the commands: with 70 cases or more every command ran.
    expect(Object.keys(summary.byCommand).length).toBeGreaterThanOrEqual(Math.min(13, Math.ceil(CASES / 7)));
  }, 3_600_000);

  // Raw NTFS volumes (scripts/fuzz-ntfs.js): the shipped demo volume, and fuzz.ntfs where
  // mkntfs, ntfs-3g and FUSE are there; 11 commands, 20 cases each at the default size.
  const NTFS_CASES = Number(process.env.FUZZ_NTFS_CASES ?? 220);
  it(`${NTFS_CASES} mutated NTFS volumes through info, ls, cat, cp -r and bench: no crash, hang, stray stderr, or write where none belongs`, async () => {
    const run = await promisify(execFile)(process.execPath, [script, '--kinds', 'ntfs', '--cases', String(NTFS_CASES), '--seed', '20261207', '--jobs', '2'], { maxBuffer: 1 << 26 }).catch((e: { stdout: string; stderr: string }) => e);
    const lines = run.stdout.trim().split('\n');
    const summary = JSON.parse(lines.at(-1)!) as { cases: number; failures: number; byCommand: Record<string, number> };
    expect(lines.slice(0, -1), run.stderr).toEqual([]);
    expect(summary.failures).toBe(0);
    expect(summary.cases).toBe(NTFS_CASES);
    expect(Object.keys(summary.byCommand).length).toBe(Math.min(11, NTFS_CASES));
  }, 1_800_000);

  // Cartridge images (scripts/fuzz-cartridge.js: mutations re-sealed past the checksums); 11 commands.
  const CART_CASES = Number(process.env.FUZZ_CART_CASES ?? 220);
  it(`${CART_CASES} mutated Cartridge images through info, ls, cat, cp -r, fsck, snapshot list and verify: no crash, hang, stray stderr, or write where none belongs`, async () => {
    const run = await promisify(execFile)(process.execPath, [script, '--kinds', 'cart', '--cases', String(CART_CASES), '--seed', '20261207', '--jobs', '2'], { maxBuffer: 1 << 26 }).catch((e: { stdout: string; stderr: string }) => e);
    const lines = run.stdout.trim().split('\n');
    const summary = JSON.parse(lines.at(-1)!) as { cases: number; failures: number; byCommand: Record<string, number> };
    expect(lines.slice(0, -1), run.stderr).toEqual([]);
    expect(summary.failures).toBe(0);
    expect(summary.cases).toBe(CART_CASES);
    expect(Object.keys(summary.byCommand).length).toBe(Math.min(11, CART_CASES));
  }, 1_800_000);
});

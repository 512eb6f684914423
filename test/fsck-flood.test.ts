/**
 * Issue 12, defect 2: a volume with a hundred thousand findings of one class must
 * give a bounded report. Each code lists at most MAX_FINDINGS_PER_CODE findings, then
 * one summary ("... and N more CODE findings not listed") that carries the count, in
 * the text output and in --json; repairs are summarised the same way. The image is
 * built by raw writes on an mkfs.fat image (test/helpers/hostile-fat.ts), so the
 * number of bad entries is known independently of diskkit.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FINDINGS_PER_CODE } from '../src/engine/limits.js';
import { diskkit } from './helpers/cli.js';
import { writeFindingFlood } from './helpers/hostile-fat.js';
import { requireTools } from './helpers/oracle.js';

const tools = requireTools('mkfs.fat', 'fsck.fat');
const SMALL_HEAP = { env: { NODE_OPTIONS: '--max-old-space-size=192' } };
let dir = '';
let image = '';
let bad = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-flood-'));
  image = join(dir, 'flood.img');
  // Three directories of 65,536 slots (4,096 clusters of 512 bytes): 196,602 bad entries.
  if (tools) bad = writeFindingFlood(image, 3, 4096, 16);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(tools)('fsck on a flood of findings', () => {
  it('lists MAX_FINDINGS_PER_CODE of the class, then one summary with the count', async () => {
    expect(bad).toBe(3 * 65534);
    const r = await diskkit(['fsck', image], SMALL_HEAP);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(4);
    const lines = r.stdout.trim().split('\n');
    const chainSize = lines.filter((l) => l.startsWith('E_FSCK_CHAIN_SIZE '));
    expect(chainSize).toHaveLength(MAX_FINDINGS_PER_CODE + 1);
    const more = bad - MAX_FINDINGS_PER_CODE;
    expect(chainSize.at(-1)).toBe(`E_FSCK_CHAIN_SIZE ... and ${more.toLocaleString('en-US')} more E_FSCK_CHAIN_SIZE findings not listed`);
    expect(lines.at(-1)).toMatch(new RegExp(`\\(${bad} errors, not corrected\\)$`));
    expect(r.stdout.length).toBeLessThan(200_000);
  });

  it('--json carries the same summary with the count as a number', async () => {
    const r = await diskkit(['--json', 'fsck', image], SMALL_HEAP);
    expect(r.exitCode).toBe(4);
    const doc = JSON.parse(r.stdout) as { errors: { code: string; omitted?: number }[] };
    const chainSize = doc.errors.filter((e) => e.code === 'E_FSCK_CHAIN_SIZE');
    expect(chainSize).toHaveLength(MAX_FINDINGS_PER_CODE + 1);
    expect(chainSize.at(-1)!.omitted).toBe(bad - MAX_FINDINGS_PER_CODE);
  });

  it('--repair corrects every entry, summarises the repairs, and fsck.fat agrees', async () => {
    const r = await diskkit(['fsck', '--repair', image], SMALL_HEAP);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(1);
    const fixed = r.stdout.split('\n').filter((l) => l.startsWith('fixed: ') && l.includes('set the size to 0'));
    expect(fixed).toHaveLength(MAX_FINDINGS_PER_CODE);
    expect(r.stdout).toContain(`... and ${(bad - MAX_FINDINGS_PER_CODE).toLocaleString('en-US')} more repairs of E_FSCK_CHAIN_SIZE not listed`);
    expect((await diskkit(['fsck', image])).exitCode).toBe(0);
    expect(spawnSync('fsck.fat', ['-n', image]).status).toBe(0);
  }, 600_000);
});

/**
 * Issue 12, defect 3: a repair is computed completely before the first byte reaches
 * the image. Before the fix, more than 10,000 lost chains made the repair crash half
 * way ("DirEntry.name needs 11 bytes, got 12" for FILE10000CHK) after it had already
 * changed hundreds of bytes. The lost chains are made here by raw FAT writes on an
 * mkfs.fat image; fsck.fat and mtools judge the result.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlockSource } from '../src/io/block-source.js';
import { StagedWrites } from '../src/io/staged-writes.js';
import { diskkit } from './helpers/cli.js';
import { EOC, geometry, makeFat16, setFat } from './helpers/hostile-fat.js';
import { requireTools } from './helpers/oracle.js';

const tools = requireTools('mkfs.fat', 'fsck.fat', 'mdir');
const LOST = 10_050;
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'diskkit-staged-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(tools)('fsck --repair with more than 10,000 lost chains', () => {
  it('saves every chain under a valid 8.3 name and leaves a volume both checkers accept', async () => {
    const path = join(dir, 'lost.img');
    const img = makeFat16(path);
    const g = geometry(img);
    // Clusters 3 onwards each hold end-of-chain: one-cluster lost chains.
    for (let i = 0; i < LOST; i++) setFat(img, g, 3 + i, EOC);
    writeFileSync(path, img);
    const r = await diskkit(['fsck', '--repair', path]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`saved ${LOST} lost ${LOST === 1 ? 'chain' : 'chains'} as /FOUND.000`);
    expect((await diskkit(['fsck', path])).exitCode).toBe(0);
    const peer = spawnSync('fsck.fat', ['-n', path], { encoding: 'utf8' });
    expect(peer.status, peer.stdout).toBe(0);
    const listing = execFileSync('mdir', ['-i', path, '-b', '::/FOUND.000'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const names = listing.split('\n').filter(Boolean);
    expect(names).toHaveLength(LOST);
    expect(names).toContain('::/FOUND.000/FILE9999.CHK');
    expect(names).toContain('::/FOUND.000/F0010000.CHK');
    expect(names).toContain(`::/FOUND.000/F00${LOST - 1}.CHK`);
  });
});

describe('StagedWrites', () => {
  it('keeps writes from the source until commit, and reads see them', () => {
    const bytes = new Uint8Array(4096).map((_, i) => i & 0xff);
    const base = new MemoryBlockSource(bytes, 'mem');
    const staged = new StagedWrites(base);
    staged.writeAt(Uint8Array.of(1, 2, 3), 0, 3, 510);
    expect(base.counters.writeCalls).toBe(0);
    expect(Array.from(bytes.subarray(508, 514))).toEqual([252, 253, 254, 255, 0, 1]);
    const seen = new Uint8Array(6);
    staged.readAt(seen, 0, 6, 508);
    expect(Array.from(seen)).toEqual([252, 253, 1, 2, 3, 1]);
    staged.commit();
    expect(Array.from(bytes.subarray(508, 514))).toEqual([252, 253, 1, 2, 3, 1]);
    expect(() => staged.writeAt(new Uint8Array(2), 0, 2, 4095)).toThrow(RangeError);
  });
});



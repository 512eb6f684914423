/**
 * Crash safety of Cartridge writes (docs/cartridge-format.md §4, §13, §16), CI-sized:
 * 200 SIGKILLs at seeded instants of a writer that writes, removes, snapshots, deletes
 * and restores snapshots and compacts (scripts/cartridge-crash-test.js; `npm run
 * crash:cartridge` runs 1,000). After each kill: the state is the last reported commit or
 * the one after it, every file and every snapshot reads exactly as the workload's model
 * says, and fsck finds nothing.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS script, no declarations
import { IMAGE_KINDS, runCartridgeCrashTest } from '../../scripts/cartridge-crash-test.js';

/** CARTRIDGE_CRASH_KILLS raises the count for a longer local run. */
const KILLS = Number(process.env.CARTRIDGE_CRASH_KILLS ?? 200);

interface CrashResult {
  kills: number;
  failures: { kill: number; kind: string; problems: string[] }[];
  commitsSurvived: number;
  inCompaction: number;
  byKind: Record<string, number>;
}

describe('crash safety: a Cartridge writer SIGKILLed at seeded instants', () => {
  it(`${KILLS} kills over lz4, zstd and uncompressed images: every survivor is one whole commit, snapshots intact, fsck clean`, async () => {
    // Encrypted images are in the 1,000-kill script run: each check there costs several scrypt derivations.
    const kinds = (IMAGE_KINDS as { name: string; passphrase?: string }[]).filter((k) => k.passphrase === undefined);
    const result = (await runCartridgeCrashTest({ kills: KILLS, seed: 7, jobs: 3, maxDelayMs: 250, kinds })) as CrashResult;
    expect(result.failures).toEqual([]);
    expect(result.kills).toBe(KILLS);
    expect(Object.keys(result.byKind).sort()).toEqual(['lz4', 'none', 'zstd']);
    // The kills landed while the workload moved: commits were made and checked, some kills hit a compaction.
    expect(result.commitsSurvived).toBeGreaterThan(KILLS / 4);
    expect(result.inCompaction).toBeGreaterThan(0);
  }, 600_000);
});

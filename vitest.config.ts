import { defineConfig } from 'vitest/config';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Scratch files (every test's mkdtemp, and the temporary files of the diskkit processes
 * the tests start, which inherit TMPDIR) go to /dev/shm when it is a writable tmpfs.
 * The write commands fsync their journals and images, thousands of times in a run; on a
 * disk file system each fsync waits for whatever else the parallel test files have
 * written to be flushed first, and one CI run stalled a 1.3 s test past its 60 s limit.
 * On tmpfs an fsync returns at once; every other file-system behaviour the tests rely
 * on (sparse files, mmap, rename, FUSE mount points) is the same. DISKKIT_TEST_TMPDIR
 * chooses another place. Each run gets a directory of its own there, removed when the
 * run ends: what a test or a diskkit process leaves behind does not pile up in memory.
 */
function scratchDir(): string | undefined {
  const wanted = process.env.DISKKIT_TEST_TMPDIR ?? '/dev/shm';
  try {
    if (!statSync(wanted).isDirectory()) return undefined;
    accessSync(wanted, constants.W_OK);
    const own = mkdtempSync(join(wanted, 'diskkit-tests-'));
    process.on('exit', () => {
      try {
        rmSync(own, { recursive: true, force: true });
      } catch {
        // a FUSE mount a failed test left inside: the rest is gone, the mount stays visible
      }
    });
    return own;
  } catch {
    return undefined;
  }
}

const scratch = scratchDir();

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/helpers/fixtures-setup.ts'],
    ...(scratch ? { env: { TMPDIR: scratch } } : {}),
  },
});

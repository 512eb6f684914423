import { defineConfig } from 'vitest/config';
import { accessSync, constants, statSync } from 'node:fs';

/**
 * Scratch files (every test's mkdtemp, and the temporary files of the diskkit processes
 * the tests start, which inherit TMPDIR) go to /dev/shm when it is a writable tmpfs.
 * The write commands fsync their journals and images, thousands of times in a run; on a
 * disk file system each fsync waits for whatever else the parallel test files have
 * written to be flushed first, and one CI run stalled a 1.3 s test past its 60 s limit.
 * On tmpfs an fsync returns at once; every other file-system behaviour the tests rely
 * on (sparse files, mmap, rename, FUSE mount points) is the same. DISKKIT_TEST_TMPDIR
 * chooses another place.
 */
function scratchDir(): string | undefined {
  const wanted = process.env.DISKKIT_TEST_TMPDIR ?? '/dev/shm';
  try {
    if (!statSync(wanted).isDirectory()) return undefined;
    accessSync(wanted, constants.W_OK);
    return wanted;
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

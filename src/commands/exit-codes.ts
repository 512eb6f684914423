/** The exit codes of diskkit, in one table (documented in README.md). */
export const ExitCode = {
  OK: 0,
  /** A runtime error: bad image, missing file, I/O error. */
  ERROR: 1,
  /** The command line is wrong. */
  USAGE: 2,
  /** Stopped by Ctrl-C (SIGINT), as shells report 128 + 2. */
  INTERRUPTED: 130,
} as const;

/** fsck(8) exit codes, used by `diskkit fsck` only. */
export const FsckExitCode = {
  CLEAN: 0,
  CORRECTED: 1,
  UNCORRECTED: 4,
  OPERATIONAL: 8,
  USAGE: 16,
} as const;

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

/**
 * Exit codes for errors whose code says more than "runtime error"; every other
 * DiskkitError exits with ERROR. E_READ_ONLY (a write to a format diskkit only reads)
 * is a runtime error, named here so the table says so.
 */
export const EXIT_CODE_BY_ERROR: Readonly<Record<string, number>> = {
  E_USAGE: ExitCode.USAGE,
  E_CANCELLED: ExitCode.INTERRUPTED,
  E_READ_ONLY: ExitCode.ERROR,
  E_BAD_PASSPHRASE: ExitCode.ERROR,
  E_CHECKSUM: ExitCode.ERROR,
};

/** fsck(8) exit codes, used by `diskkit fsck` only. */
export const FsckExitCode = {
  CLEAN: 0,
  CORRECTED: 1,
  UNCORRECTED: 4,
  OPERATIONAL: 8,
  USAGE: 16,
} as const;

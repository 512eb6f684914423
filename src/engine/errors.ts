/**
 * The one error type of diskkit. Callers branch on `code`, never on message text.
 * `context` carries the offending value (a field name, a cluster, a path) so that
 * the CLI and `--json` can report it without parsing the message.
 */
export const ErrorCode = {
  /** The command line itself is wrong. */
  USAGE: 'E_USAGE',
  /** An operating-system I/O error (open, read, write). */
  IO: 'E_IO',
  /** A read returned fewer bytes than the structure needs. */
  SHORT_READ: 'E_SHORT_READ',
  /** The image ends before a structure it claims to hold. */
  TRUNCATED: 'E_TRUNCATED',
  /** The FAT boot sector / BIOS parameter block is invalid. */
  BAD_BPB: 'E_BAD_BPB',
  /** No file system diskkit knows was found. */
  UNKNOWN_FORMAT: 'E_UNKNOWN_FORMAT',
  /** Partition table problems, or a partition number that does not exist. */
  PARTITION: 'E_PARTITION',
  NOT_FOUND: 'E_NOT_FOUND',
  NOT_A_DIRECTORY: 'E_NOT_DIR',
  IS_A_DIRECTORY: 'E_IS_DIR',
  EXISTS: 'E_EXISTS',
  NOT_EMPTY: 'E_NOT_EMPTY',
  /** A cluster chain loops back on itself. */
  CHAIN_LOOP: 'E_CHAIN_LOOP',
  /** A cluster chain points outside the data region, at a free or at a bad cluster. */
  CHAIN_RANGE: 'E_CHAIN_RANGE',
  /** A directory entry or structure is corrupt beyond recovery. */
  CORRUPT: 'E_CORRUPT',
  /** A name cannot be stored or extracted safely. */
  BAD_NAME: 'E_BAD_NAME',
  /** Two names the file system takes for one (FAT ignores case): the second is not written. */
  NAME_CLASH: 'E_NAME_CLASH',
  /** The volume is full. */
  NO_SPACE: 'E_NO_SPACE',
  /** A move that cannot be done, e.g. a directory into itself. */
  INVALID_MOVE: 'E_INVALID_MOVE',
  /** The fixed FAT12/16 root directory has no free entry. */
  ROOT_FULL: 'E_ROOT_FULL',
  /** A size, count or offset read from disk exceeds a safety limit. */
  LIMIT: 'E_LIMIT',
  /** The NTFS MFT source is unusable. */
  BAD_MFT: 'E_BAD_MFT',
  /** One MFT record is unusable (recoverable: reported, not thrown, unless --strict). */
  BAD_RECORD: 'E_BAD_RECORD',
  /** A write to a volume whose format diskkit only reads (NTFS), to a sealed image, or to an image file without write permission (no --force). */
  READ_ONLY: 'E_READ_ONLY',
  /** Valid but not supported (yet). */
  UNSUPPORTED: 'E_UNSUPPORTED',
  /** The user interrupted the operation. */
  CANCELLED: 'E_CANCELLED',
  /** A worker thread failed. */
  WORKER: 'E_WORKER',
  /** An interrupted write's rollback journal cannot be applied (read-only image, foreign or mismatched journal). */
  JOURNAL: 'E_JOURNAL',
  /** Another diskkit process is writing the image. */
  BUSY: 'E_BUSY',
  /** A --strict run met a warning. */
  STRICT: 'E_STRICT',
  /** An encrypted image's passphrase is wrong, or none was given (context.reason says which). */
  BAD_PASSPHRASE: 'E_BAD_PASSPHRASE',
  /** A checksum or authentication tag does not match: context.page names the page or extent. */
  CHECKSUM: 'E_CHECKSUM',
  /** Something needed more memory than the process may use (what, and which limit to raise, are in the message). */
  NO_MEMORY: 'E_NO_MEMORY',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface DiskkitErrorOptions {
  /** The offending value: field name, cluster number, path, record number... */
  context?: Record<string, unknown>;
  /** What the user could do about it. */
  hint?: string;
  cause?: unknown;
}

export class DiskkitError extends Error {
  readonly code: ErrorCodeValue;
  readonly context: Record<string, unknown>;
  readonly hint: string | undefined;

  constructor(code: ErrorCodeValue, message: string, options: DiskkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DiskkitError';
    this.code = code;
    this.context = options.context ?? {};
    this.hint = options.hint;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, context: this.context, hint: this.hint };
  }
}

export function isDiskkitError(error: unknown): error is DiskkitError {
  return error instanceof DiskkitError;
}

/** A recoverable problem: reported in a result, and work goes on. `--strict` turns these into errors. */
export interface DiskkitWarning {
  code: ErrorCodeValue | string;
  message: string;
  context?: Record<string, unknown>;
}

/** Host-side errnos in words (fromSystemError); the errno itself stays in context.errno. */
const SYSTEM_ERRNO: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  // Host paths below a destination are opened with O_NOFOLLOW: a link there is refused, not written through.
  ELOOP: 'a symbolic link is in the way (not followed)',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'the name is too long for the host (ENAMETOOLONG)',
};

/** Wraps a Node system error (ENOENT, EACCES...) in a DiskkitError naming the file. */
export function fromSystemError(error: unknown, path: string, action: string): DiskkitError {
  if (error instanceof DiskkitError) return error;
  const sys = error as NodeJS.ErrnoException;
  const reason = sys && typeof sys === 'object' && 'code' in sys && sys.code ? sys.code : 'error';
  const code = sys?.code === 'ENOENT' ? ErrorCode.NOT_FOUND : ErrorCode.IO;
  const detail = (sys?.code !== undefined ? SYSTEM_ERRNO[sys.code] : undefined) ?? sys?.message ?? String(error);
  return new DiskkitError(code, `cannot ${action}: ${detail}`, { context: { path, errno: reason }, cause: error });
}

/** What the output-side system errors mean, by errno. */
const OUTPUT_ERRNO: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EFBIG: 'the file would exceed the largest size allowed (file system or ulimit -f)',
  EDQUOT: 'the disk quota is exhausted',
  EIO: 'an I/O error occurred',
  EROFS: 'the file system is read-only',
};

/** RangeError messages V8 and Node give when an allocation is refused. */
const ALLOCATION_FAILED = /Array buffer allocation failed|Invalid string length|Invalid array length|Invalid typed array length|Cannot create a string longer|allocation failed/i;

/**
 * Gives every error that reaches the top a code: Node system errors (ENOSPC, EFBIG...)
 * become E_IO naming the errno and what was being written, refused allocations
 * become E_NO_MEMORY naming the limit to raise. Anything else is returned as it is.
 */
export function toDiskkitError(error: unknown, output = 'the output'): unknown {
  if (error instanceof DiskkitError) return error;
  const sys = error as NodeJS.ErrnoException | null;
  if (sys && typeof sys === 'object' && typeof sys.code === 'string' && typeof sys.syscall === 'string') {
    const what = OUTPUT_ERRNO[sys.code] ?? sys.message;
    const target = sys.path ?? output;
    return new DiskkitError(ErrorCode.IO, `cannot ${sys.syscall} ${target}: ${what} (${sys.code})`, { context: { errno: sys.code }, cause: error });
  }
  if (error instanceof RangeError && (ALLOCATION_FAILED.test(error.message) || (error as NodeJS.ErrnoException).code === 'ERR_STRING_TOO_LONG' || (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')) {
    return new DiskkitError(ErrorCode.NO_MEMORY, `out of memory: a buffer or string was too big for this process (${error.message})`, {
      hint: 'raise the heap limit (NODE_OPTIONS=--max-old-space-size=MiB), or list less at once (no -R, a subdirectory, --json to a file)',
      cause: error,
    });
  }
  return error;
}

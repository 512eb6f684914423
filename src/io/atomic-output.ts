/**
 * Output files that appear whole or not at all: data goes to a temporary name in
 * the destination's own directory (same file system, so the final rename is atomic)
 * and is renamed over the destination only when the writer succeeded. On an error
 * or an abort the temporary file is deleted; temporaries still open when the process
 * exits (a second Ctrl-C) are deleted by an exit hook.
 *
 * A destination that is not a regular file (a device such as /dev/null, a pipe, a
 * socket) is written directly: there is no file to replace, and renaming over it
 * would destroy it. A symbolic link to a regular file is written through: the
 * temporary goes next to the file it points to and replaces that file.
 *
 * `inPlace` writes the destination itself instead (as cp(1) does) and deletes it when
 * the writer fails: no partial file is left either, but a reader may see the file
 * grow. For gigabyte copies it avoids a second inode whose blocks are allocated while
 * the old file's are freed, which the page cache's writeback makes costly here.
 */
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, openSync, realpathSync, renameSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fromSystemError } from '../engine/errors.js';
import { checkAborted } from './chunk-read.js';
import { writeAllTo } from './write-all.js';
import { ownDescriptor } from './host-stream.js';

const pending = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const path of pending) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  });
}

export interface AtomicOutput {
  /** The temporary file being written. */
  readonly tempPath: string;
  readonly fd: number;
  /** Writes all of `data` at the current end of the file. */
  write(data: Uint8Array): void;
}

/** Temporary files of atomic outputs not yet renamed or deleted (for tests). */
export function pendingTempFiles(): string[] {
  return [...pending];
}

/**
 * Runs `writer` on a temporary file next to `destination`, then renames it into place.
 * `mode` sets the new file's permissions (default 0o644 less the umask).
 */
export async function writeAtomically<T>(
  destination: string,
  writer: (out: AtomicOutput) => Promise<T> | T,
  options: {
    signal?: AbortSignal;
    mode?: number;
    /** fsync before the rename (default true); cp skips it, as cp(1) does. */
    durable?: boolean;
    /** Write `destination` itself (never following a symlink there) and delete it on failure. */
    inPlace?: boolean;
    /** With inPlace: a symlink at `destination` is followed (the caller checked what it points to). */
    followLink?: boolean;
  } = {},
): Promise<T> {
  installExitHook();
  // Written on the descriptor itself: opening /proc/self/fd/N again fails (ENXIO) when it is a socket, as execa's stdout is.
  const own = options.followLink ? ownDescriptor(destination) : null;
  if (own !== null) return writeDirectly(destination, writer, options.signal, own);
  let existing: Stats | null = null;
  if (!options.inPlace) {
    try {
      existing = statSync(destination);
    } catch {
      existing = null;
    }
    if (existing && !existing.isFile() && !existing.isDirectory()) return writeDirectly(destination, writer, options.signal);
    if (existing?.isFile() && lstatSync(destination).isSymbolicLink()) destination = realpathSync(destination);
  }
  const tempPath = options.inPlace ? destination : join(dirname(destination), `.${basename(destination)}.diskkit-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    const flags = options.inPlace ? constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (options.followLink ? 0 : constants.O_NOFOLLOW) : 'wx';
    fd = openSync(tempPath, flags, options.mode ?? 0o644);
  } catch (error) {
    throw fromSystemError(error, destination, 'create output file');
  }
  // In place on something that is not a regular file (cp to /dev/null): nothing to delete on failure.
  const regular = !options.inPlace || fstatSync(fd).isFile();
  if (regular) pending.add(tempPath);
  let closed = false;
  const out: AtomicOutput = { tempPath, fd, write: (data) => writeAllTo(fd, data, destination, 'write output file') };
  try {
    const value = await writer(out);
    checkAborted(options.signal);
    if (options.durable !== false && regular) fsyncSync(fd);
    closeSync(fd);
    closed = true;
    if (!options.inPlace) {
      try {
        renameSync(tempPath, destination);
      } catch (error) {
        throw fromSystemError(error, destination, 'rename output file into place');
      }
    }
    pending.delete(tempPath);
    return value;
  } finally {
    if (!closed) closeSync(fd);
    if (pending.has(tempPath)) {
      pending.delete(tempPath);
      try {
        unlinkSync(tempPath);
      } catch {
        // nothing to clean up
      }
    }
  }
}

/** A device, pipe or socket destination (or one of this process's descriptors, `own`): written as it is (nothing to rename, nothing to delete). */
async function writeDirectly<T>(destination: string, writer: (out: AtomicOutput) => Promise<T> | T, signal: AbortSignal | undefined, own: number | null = null): Promise<T> {
  let fd: number;
  try {
    fd = own ?? openSync(destination, constants.O_WRONLY);
  } catch (error) {
    throw fromSystemError(error, destination, 'open output file');
  }
  try {
    const value = await writer({ tempPath: destination, fd, write: (data) => writeAllTo(fd, data, destination, 'write output file') });
    checkAborted(signal);
    return value;
  } finally {
    if (own === null) closeSync(fd);
  }
}


/**
 * Writing one small file onto the host whole, the way cp out of an image does for every
 * file that fits one read: create (O_NOFOLLOW: a symlink planted where the file goes is
 * never followed; mode 0644 less the umask), write, set the times on the descriptor,
 * close. A failure once the file exists deletes it again, so no partial file is left.
 * Shared by the main thread and the host-write worker (host-write-worker.ts), so both
 * write exactly the same way; it imports nothing heavier than node:fs and the error type.
 */
import { closeSync, constants, fstatSync, futimesSync, openSync, unlinkSync } from 'node:fs';
import { fromSystemError } from '../engine/errors.js';
import { writeAllTo } from './write-all.js';

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/**
 * A time in milliseconds as the seconds futimes/utimes take, so that the host keeps that
 * millisecond exactly. libuv cuts the seconds to whole microseconds, and ms / 1000 is often
 * a hair below the millisecond (1796668681.768 is stored as ...681.7679998875): the file got
 * .767999 s, a millisecond early to anything that truncates. Half a microsecond more lands
 * inside the intended microsecond whatever the rounding of the division.
 */
export function hostTimeSeconds(ms: number): number {
  return (ms + 0.0005) / 1000;
}

/**
 * Writes `bytes` to a new (or truncated) host file `path`. Times are in milliseconds
 * since the epoch; NaN for `mtimeMs` leaves both times as the host sets them, NaN for
 * `atimeMs` uses the modification time. Throws DiskkitError (E_IO / E_NOT_FOUND naming
 * `path`), after deleting the file when it was created.
 */
export function writeHostFile(path: string, bytes: Uint8Array, atimeMs: number, mtimeMs: number): void {
  let fd: number;
  try {
    fd = openSync(path, CREATE_FLAGS, 0o644);
  } catch (error) {
    throw fromSystemError(error, path, 'create output file');
  }
  let written = false;
  try {
    writeAllTo(fd, bytes, path, 'write output file');
    if (!Number.isNaN(mtimeMs)) futimesSync(fd, hostTimeSeconds(Number.isNaN(atimeMs) ? mtimeMs : atimeMs), hostTimeSeconds(mtimeMs));
    written = true;
  } finally {
    // Not a regular file (cp to /dev/null): nothing to delete.
    const remove = !written && fstatSync(fd).isFile();
    closeSync(fd);
    if (remove) {
      try {
        unlinkSync(path);
      } catch {
        // nothing to clean up
      }
    }
  }
}

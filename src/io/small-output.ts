/**
 * One small output file in as few system calls as the job needs: open (O_NOFOLLOW, as
 * writeAtomically's inPlace mode), one write, the times, close. `cp -r` out of an image
 * of many small files spends most of its time per file, not per byte, and the read-mode
 * machinery (scan planning, statistics, a promise per file) costs more than the copy of
 * a few kilobytes. The data is read before the file is opened, so a read error leaves no
 * file; a write error deletes the file again (when it is a regular file), as
 * writeAtomically does.
 */
import { closeSync, constants, fstatSync, futimesSync, openSync, unlinkSync } from 'node:fs';
import { fromSystemError } from '../engine/errors.js';
import { writeAllTo } from './write-all.js';

const FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/** Writes `data` as `destination` (replacing a regular file there) and sets its times when given. */
export function writeSmallFile(destination: string, data: Uint8Array, times?: { atime: Date; mtime: Date }): void {
  let fd: number;
  try {
    fd = openSync(destination, FLAGS, 0o644);
  } catch (error) {
    throw fromSystemError(error, destination, 'create output file');
  }
  try {
    if (data.length > 0) writeAllTo(fd, data, destination, 'write output file');
    if (times) futimesSync(fd, times.atime, times.mtime);
  } catch (error) {
    let regular = false;
    try {
      regular = fstatSync(fd).isFile();
    } catch {
      // cannot tell: leave it
    }
    closeSync(fd);
    if (regular) {
      try {
        unlinkSync(destination);
      } catch {
        // already gone
      }
    }
    throw error;
  }
  closeSync(fd);
}

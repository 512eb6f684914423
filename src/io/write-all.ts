/**
 * The one complete synchronous write: all of `data` to a file descriptor, retrying
 * short writes, and waiting out a non-blocking pipe's EAGAIN rather than failing.
 * cat and ls (stdout), atomic output files and the MFT row writers (one thread or two)
 * all write through it.
 */
import { writeSync } from 'node:fs';
import { fromSystemError } from '../engine/errors.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `data` to `fd`; system errors are thrown as Node raised them. */
export function writeAllSync(fd: number, data: Uint8Array | string): void {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let done = 0;
  while (done < buf.length) {
    try {
      done += writeSync(fd, buf, done, buf.length - done);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 2);
    }
  }
}

/** writeAllSync with a failure reported as a DiskkitError naming `destination` ("cannot `what`: ..."). */
export function writeAllTo(fd: number, data: Uint8Array, destination: string, what: string): void {
  try {
    writeAllSync(fd, data);
  } catch (error) {
    throw fromSystemError(error, destination, what);
  }
}

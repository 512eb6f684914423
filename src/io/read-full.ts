/**
 * The one positioned read that does not stop short: pread until `length` bytes are in
 * `buf` or the file ends. Host files copied in (FAT and Cartridge alike), the rollback
 * journal's saved sectors and the Cartridge superblock read through it. (BlockSource
 * and the Cartridge pager keep their own loops: they count every read call.) Also the
 * one read of a stream (a pipe, a socket, a terminal) that waits out EAGAIN.
 */
import { readSync } from 'node:fs';
import { DiskkitError, ErrorCode, fromSystemError } from '../engine/errors.js';

/** Reads up to `length` bytes at `position` into `buf` at `offset`; returns how many (fewer only at the end of the file). System errors are thrown as Node raised them. */
export function preadUpTo(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Reads exactly `length` bytes of the host file `path` at `position`: a file that shrank while it was copied is E_SHORT_READ. */
export function readHostFileFully(fd: number, buf: Uint8Array, length: number, position: number, path: string): void {
  let got: number;
  try {
    got = preadUpTo(fd, buf, 0, length, position);
  } catch (error) {
    throw fromSystemError(error, path, 'read');
  }
  if (got < length) throw new DiskkitError(ErrorCode.SHORT_READ, 'file shrank while being copied', { context: { path } });
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * The next bytes of a stream at its current position: up to `length` into `buf` at
 * `offset`, 0 at its end. A descriptor inherited in non-blocking mode (a pipe or socket
 * a Node parent set so) has nothing yet: wait a little for the writer rather than fail,
 * as writeAllSync waits to write. Errors are DiskkitErrors naming `name`.
 */
export function readStreamChunk(fd: number, buf: Uint8Array, offset: number, length: number, name: string): number {
  for (;;) {
    try {
      return readSync(fd, buf, offset, length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw fromSystemError(error, name, 'read');
      Atomics.wait(pause, 0, 0, 2);
    }
  }
}

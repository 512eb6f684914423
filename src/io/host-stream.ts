/**
 * Host operands that are streams, not files: this process's own descriptors named as
 * paths (`/dev/stdin`, `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`), FIFOs, character
 * devices and sockets. cp(1) copies what such an operand yields; diskkit does too.
 *
 * Why a descriptor named as a path is used as it is: opening the name again fails with
 * ENXIO when it is a socket, which is what Node's child_process (execa) hands a child
 * as stdin and stdout.
 *
 * A stream's length is known only at its end, and a FAT image allocates a file's clusters
 * before writing any of them, so a stream copied in is first read into a temporary file
 * (spoolStream), whose size is then known. The file is unlinked as soon as it is made and
 * read back through its descriptor: nothing is left behind however the process ends (a
 * Ctrl-C while a terminal's stdin is read kills it by the signal, with no exit hooks).
 */
import { closeSync, constants, openSync, statfsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DiskkitError, ErrorCode, fromSystemError } from '../engine/errors.js';
import { readStreamChunk } from './read-full.js';
import { writeAllTo } from './write-all.js';

/** The descriptor of this process that `path` names, or null. */
export function ownDescriptor(path: string): number | null {
  const m = /^\/(?:dev\/(?:(stdin)|(stdout)|(stderr)|fd\/(\d+))|proc\/self\/fd\/(\d+))$/.exec(path);
  if (m === null) return null;
  return m[1] ? 0 : m[2] ? 1 : m[3] ? 2 : Number(m[4] ?? m[5]);
}

/** Space left free on the temporary directory's file system by a spool (the rest of the system needs some). */
const TMP_RESERVE = 256 * 1024 * 1024;
const CHUNK = 1024 * 1024;

export interface Spooled {
  /** A path that opens the temporary file (`/dev/fd/N`: it has no name of its own). */
  path: string;
  size: number;
  /** Closes the temporary file, which frees it. */
  remove(): void;
}

/**
 * Reads the stream `operand` to its end into a temporary file. More than `limit` bytes
 * (what the destination can take) is E_NO_SPACE as soon as it is passed, so `/dev/zero`
 * does not fill the temporary directory first; so is reaching TMP_RESERVE there.
 */
export function spoolStream(operand: string, limit: number): Spooled {
  const own = ownDescriptor(operand);
  let input: number;
  try {
    input = own ?? openSync(operand, constants.O_RDONLY);
  } catch (error) {
    throw fromSystemError(error, operand, 'open');
  }
  const dir = tmpdir();
  let output = -1;
  try {
    const name = join(dir, `.diskkit-stream-${randomBytes(6).toString('hex')}`);
    try {
      output = openSync(name, 'wx+', 0o600);
      unlinkSync(name);
    } catch (error) {
      throw fromSystemError(error, name, 'create temporary file');
    }
    const fs = statfsSync(dir);
    const room = Math.min(limit, Math.max(0, fs.bavail * fs.bsize - TMP_RESERVE));
    const buf = Buffer.allocUnsafe(CHUNK);
    let size = 0;
    for (;;) {
      const n = readStreamChunk(input, buf, 0, CHUNK, operand);
      if (n === 0) break;
      size += n;
      if (size > room) {
        const why = room < limit ? `more than the ${room} bytes the temporary directory ${dir} can spare` : `more than the ${limit} bytes free in the image`;
        throw new DiskkitError(ErrorCode.NO_SPACE, `the stream holds ${why}`, { context: { path: operand, size } });
      }
      writeAllTo(output, buf.subarray(0, n), dir, 'write temporary file');
    }
    const fd = output;
    output = -1;
    return { path: `/dev/fd/${fd}`, size, remove: () => closeSync(fd) };
  } finally {
    if (output >= 0) closeSync(output);
    if (own === null) closeSync(input);
  }
}

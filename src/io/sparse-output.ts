/**
 * A file copied out onto a regular host file with its all-zero chunks left as holes, as
 * cp(1) --sparse=auto does. An NTFS sparse run maps up to 2^53 clusters of zeros in a few
 * bytes of run list: written out in full, a 16 MiB image put 133 MiB of zeros on the
 * disk for one file (and a hostile one could claim far more). Only whole chunks of zeros
 * become holes; everything else is written at its position.
 */
import { ftruncateSync, writeSync } from 'node:fs';
import { fromSystemError } from '../engine/errors.js';

const ZEROS = new Uint8Array(1 << 20);

function allZero(chunk: Uint8Array): boolean {
  for (let at = 0; at < chunk.length; at += ZEROS.length) {
    const n = Math.min(ZEROS.length, chunk.length - at);
    if (Buffer.compare(chunk.subarray(at, at + n), ZEROS.subarray(0, n)) !== 0) return false;
  }
  return true;
}

export class SparseOutput {
  private position = 0;

  /** `fd`: a regular file opened empty (O_TRUNC); `destination` names it in errors. */
  constructor(
    private readonly fd: number,
    private readonly destination: string,
  ) {}

  /** The next `chunk` of the file: written, or skipped over when it is all zeros. */
  write(chunk: Uint8Array): void {
    if (!allZero(chunk)) {
      try {
        for (let done = 0; done < chunk.length; ) done += writeSync(this.fd, chunk, done, chunk.length - done, this.position + done);
      } catch (error) {
        throw fromSystemError(error, this.destination, 'write output file');
      }
    }
    this.position += chunk.length;
  }

  /** Sets the file's length: holes at the end leave it short until then. */
  finish(): void {
    try {
      ftruncateSync(this.fd, this.position);
    } catch (error) {
      throw fromSystemError(error, this.destination, 'write output file');
    }
  }
}

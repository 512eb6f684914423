/**
 * Synchronous, complete writes to a file descriptor (stdout for cat and ls). Writing
 * straight to fd 1 avoids the stream machinery's copies; a non-blocking pipe's
 * EAGAIN is waited out rather than turned into a failure.
 */
import { writeSync } from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `data` to `fd`, retrying short writes and EAGAIN. */
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

/** Collects text and writes it to `fd` in large pieces (one syscall per ~1 MiB, not per line). */
export class BufferedTextWriter {
  private parts: string[] = [];
  private length = 0;

  constructor(
    private readonly fd: number,
    private readonly threshold = 1 << 20,
  ) {}

  write(text: string): void {
    this.parts.push(text);
    this.length += text.length;
    if (this.length >= this.threshold) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    writeAllSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.length = 0;
  }
}

/**
 * Synchronous, complete writes to a file descriptor (stdout for cat and ls). Writing
 * straight to fd 1 avoids the stream machinery's copies; a non-blocking pipe's
 * EAGAIN is waited out rather than turned into a failure.
 */
import { fstatSync } from 'node:fs';
import { fromSystemError } from '../engine/errors.js';
import { writeAllSync } from '../io/write-all.js';

export { writeAllSync };

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

/**
 * Builds output bytes in one reused Buffer and writes it to `fd` in ~1 MiB pieces.
 * For listings of millions of entries: ASCII text is stored byte by byte with no
 * intermediate string, and only names that need escaping or are not ASCII take the
 * slow way through JSON.stringify / escapeName and UTF-8 encoding.
 */
export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(
    private readonly fd: number,
    private readonly threshold = 1 << 20,
  ) {
    this.buf = Buffer.allocUnsafe(threshold + 65536);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  /** Flushes once a piece is full; call between records. */
  maybeFlush(): void {
    if (this.pos >= this.threshold) this.flush();
  }

  byte(value: number): void {
    this.reserve(1);
    this.buf[this.pos++] = value;
  }

  bytes(src: Uint8Array): void {
    const n = src.length;
    this.reserve(n);
    const buf = this.buf;
    let pos = this.pos;
    if (n > 64) buf.set(src, pos);
    else for (let i = 0; i < n; i++) buf[pos + i] = src[i]!;
    this.pos = pos + n;
  }

  /** Flushes so far: a mark taken from `position` is good while this has not changed. */
  flushes = 0;

  /** Bytes in the buffer since the last flush (a mark for copyWithin). */
  get position(): number {
    return this.pos;
  }

  /**
   * Appends a copy of bytes [start, end) written earlier, when they are still in the
   * buffer (no flush since `flushes` was read) and fit; false (nothing written) otherwise.
   */
  copyWithin(start: number, end: number, flushes: number): boolean {
    const n = end - start;
    if (flushes !== this.flushes || this.pos + n > this.buf.length) return false;
    this.buf.copyWithin(this.pos, start, end);
    this.pos += n;
    return true;
  }

  /** Text known to be ASCII (digits, fixed words). */
  ascii(s: string): void {
    const n = s.length;
    this.reserve(n);
    const buf = this.buf;
    const pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i);
    this.pos = pos + n;
  }

  /** A non-negative integer in decimal, left-padded with spaces to `width`. */
  uint(n: number, width = 0): void {
    this.reserve(Math.max(width, 22));
    if (n < 10 && width <= 1) {
      this.buf[this.pos++] = 0x30 + n;
      return;
    }
    this.ascii(width > 0 ? String(n).padStart(width) : String(n));
  }

  /**
   * `s` as written inside a JSON string (no quotes): ASCII without '"', '\\' or control
   * characters is copied; anything else is JSON.stringify's text, UTF-8 encoded.
   */
  jsonChars(s: string): void {
    const n = s.length;
    this.reserve(n * 6 + 2);
    const buf = this.buf;
    const start = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        const text = JSON.stringify(s);
        this.pos = start + buf.write(text.slice(1, -1), start, 'utf8');
        return;
      }
      buf[start + i] = c;
    }
    this.pos = start + n;
  }

  /** `s` through `escape` (used when `s` holds a control character, a backslash or non-ASCII text), UTF-8 encoded. */
  escapedText(s: string, escape: (s: string) => string): void {
    const n = s.length;
    this.reserve(n * 4 + 2);
    const buf = this.buf;
    const start = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x5c) {
        this.pos = start + buf.write(escape(s), start, 'utf8');
        return;
      }
      buf[start + i] = c;
    }
    this.pos = start + n;
  }

  flush(): void {
    if (this.pos === 0) return;
    writeAllSync(this.fd, this.buf.subarray(0, this.pos));
    this.pos = 0;
    this.flushes++;
  }
}

/** Whether stdout is a file or a device, written with synchronous writes (not a pipe or a socket). */
function stdoutIsSync(): boolean {
  try {
    const st = fstatSync(1);
    return st.isFile() || st.isCharacterDevice();
  } catch {
    return false;
  }
}

/**
 * Stdout for bulk output (mft index rows): a file or device is written synchronously
 * (and its descriptor offered for a second writer thread); a pipe goes through the
 * stream, waiting for it to drain. A reader that went away (EPIPE) stops the output
 * quietly, as cat(1) does.
 */
export function stdoutRowStream(): { fd: number | null; name: string; write(bytes: Uint8Array): void | Promise<void>; sync: boolean } {
  let broken = false;
  if (stdoutIsSync()) {
    return {
      fd: 1,
      name: 'stdout',
      write(bytes) {
        if (broken) return;
        try {
          writeAllSync(1, bytes);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EPIPE') broken = true;
          else throw fromSystemError(error, 'stdout', 'write');
        }
      },
      sync: true,
    };
  }
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') broken = true;
  });
  return {
    fd: null,
    name: 'stdout',
    write(bytes) {
      if (broken) return;
      // The writer's buffer is handed over (ByteWriter.take gives a fresh one), so no copy is needed.
      if (!process.stdout.write(bytes)) return new Promise<void>((resolve) => process.stdout.once('drain', resolve));
    },
    sync: false,
  };
}

/**
 * One small host file read whole: open (no link followed, never blocking), fstat, read,
 * close. Shared by the host reader's thread (host-tree-reader-worker.ts), which reads
 * into its shared slots, and by the main thread (host-tree-reader.ts), which reads the
 * files the thread handed over unread while the main thread had nothing else to do.
 * Both must give the same record for the same file.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { RecordKind } from './host-tree-reader-layout.js';

/** What `readSmallFile` found, besides its return value (reused from call to call: no object per file). */
export interface SmallFileResult {
  size: number;
  mtimeMs: number;
  atimeMs: number;
  /** 0 where the system does not give it (as in Node's Stats). */
  birthtimeMs: number;
  /** ERROR: "action\nerrno\nmessage". */
  errorText: string;
}

/** Where a file of `size` bytes goes: `bytes` from `at`; null when it does not fit (a BIG_FILE record). */
export type PlaceFile = (size: number, mtimeMs: number) => { bytes: Uint8Array; at: number } | null;

// O_NOFOLLOW and O_NONBLOCK: an entry swapped for a link or a FIFO since it was listed
// fails or shows in fstat, instead of being followed or blocking forever.
const NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

export function errorText(error: unknown, action: string): string {
  const e = error as NodeJS.ErrnoException;
  return `${action}\n${e?.code ?? ''}\n${e?.message ?? String(error)}`;
}

/**
 * Reads the regular file at `path` into the place `place` gives it (files up to
 * `readLimit` bytes). Returns the record kind: FILE (its bytes are in place, `size` of
 * them), BIG_FILE (larger than the limit or the place: size and mtime only), OTHER (not
 * a regular file any more), SHORT (it shrank while read), or ERROR (`errorText`).
 */
export function readSmallFile(path: Buffer | string, readLimit: number, place: PlaceFile, result: SmallFileResult): number {
  let fd: number;
  try {
    fd = openSync(path, NO_FOLLOW);
  } catch (error) {
    result.errorText = errorText(error, 'open');
    return RecordKind.ERROR;
  }
  try {
    let st;
    try {
      st = fstatSync(fd);
    } catch (error) {
      result.errorText = errorText(error, 'read');
      return RecordKind.ERROR;
    }
    if (!st.isFile()) return RecordKind.OTHER;
    const size = st.size;
    result.size = size;
    result.mtimeMs = st.mtimeMs;
    result.atimeMs = st.atimeMs;
    result.birthtimeMs = st.birthtimeMs;
    const where = size > readLimit ? null : place(size, st.mtimeMs);
    if (where === null) return RecordKind.BIG_FILE;
    let done = 0;
    try {
      while (done < size) {
        const n = readSync(fd, where.bytes, where.at + done, size - done, done);
        if (n === 0) break;
        done += n;
      }
    } catch (error) {
      result.errorText = errorText(error, 'read');
      return RecordKind.ERROR;
    }
    return done < size ? RecordKind.SHORT : RecordKind.FILE;
  } finally {
    closeSync(fd);
  }
}

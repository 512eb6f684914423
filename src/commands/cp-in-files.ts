/**
 * One file into an image, for cp-in.ts's plan: from the host (read here, or by the host
 * reader thread ahead of the copy) or from another image's file reader. Each returns the
 * entry written; a file that cannot be read throws, and the plan reports it.
 */
import { closeSync, constants, fstatSync, openSync, type Stats } from 'node:fs';
import { DiskkitError, ErrorCode, fromSystemError } from '../engine/errors.js';
import type { EntryInfo, FileDataSource, Volume } from '../engine/volume.js';
import { readHostFileFully } from '../io/read-full.js';
import { nextDataOffset } from '../io/seek-data.js';
import { HostTreeReader, RecordKind } from '../io/host-tree-reader.js';
import { secondCoreFree } from '../io/auto.js';
import { threadBudget } from '../io/thread-budget.js';
import type { Progress } from './progress.js';
import type { TimePolicy } from './write-times.js';

/** Files up to this size are read whole; bigger ones stream through the engine's buffer. */
const READ_WHOLE_LIMIT = 8 * 1024 * 1024;

/** Below this many files a copy reads them itself: a thread costs more to start than it saves. */
const READER_THREAD_MIN_FILES = 64;

/**
 * A host reader thread (io/host-tree-reader.ts, as the Cartridge bulk import uses) that
 * reads `files` (the plan's files of a walk) in plan order, so their open/fstat/read/close overlap
 * the image writes. Operands and links followed with -L (planned with a stat) are read
 * here, as before. Only when a second core is free now (io/auto.ts, as mft's auto mode
 * decides; DISKKIT_THREADS=1 never): the thread saves time, not CPU (10,000 small files:
 * about 0.15 s more CPU for its start and hand-offs), so on a busy machine it would cost
 * the others and gain nothing.
 */
export function hostReaderFor(files: string[]): HostTreeReader | null {
  // DISKKIT_HOST_READER=thread|main pins the choice (tests run both paths whatever the load).
  const pinned = process.env.DISKKIT_HOST_READER;
  if (files.length === 0 || pinned === 'main') return null;
  if (pinned !== 'thread' && (files.length < READER_THREAD_MIN_FILES || threadBudget() < 2 || !secondCoreFree(threadBudget()))) return null;
  return HostTreeReader.readFiles(files);
}

/** A file whose record the reader thread sent (see hostReaderFor): the same outcome writeHostFile gives for it. */
export function writeReadFile(volume: Volume, reader: HostTreeReader, host: string, dest: string, times: TimePolicy, bar: Progress | null, doneBefore: number, compression?: string): EntryInfo {
  switch (reader.kind) {
    case RecordKind.FILE: {
      // reader.data is a view into the thread's slots: writeFile has taken the bytes when it returns.
      const t = times.fromHostMs(reader.mtimeMs, reader.atimeMs, reader.birthtimeMs);
      return volume.writeFile(dest, reader.data, { ...t, compression, onProgress: bar ? (n) => bar.update(doneBefore + n) : undefined });
    }
    case RecordKind.BIG_FILE:
      return writeHostFile(volume, host, dest, times, bar, doneBefore, undefined, compression);
    case RecordKind.OTHER:
      throw new DiskkitError(ErrorCode.UNSUPPORTED, 'not a regular file or directory; skipped', { context: { path: host } });
    case RecordKind.SHORT:
      throw new DiskkitError(ErrorCode.SHORT_READ, 'file shrank while being copied', { context: { path: host } });
    default: {
      // ERROR, or FATAL (the thread stopped: the files after this one are read here).
      const { action, code, message } = reader.error;
      throw fromSystemError(Object.assign(new Error(message), code ? { code } : {}), host, action);
    }
  }
}

/** A file met in a walk is opened without following a link, and never blocks: one swapped for a link or a FIFO since it was listed fails, or shows in fstat. */
const LISTED_FILE = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
/** Where small files are read, one after the other (writeFile has taken the bytes when it returns). */
let readArena = new Uint8Array(0);
/** The arena keeps up to this much between files; a bigger file's buffer is its own. */
const ARENA_KEEP = 1024 * 1024;

/**
 * `planned`: the stat of an operand or a link followed with -L (both opened following
 * links); without it, a regular file of a walk, whose size and times come from fstat.
 */
export function writeHostFile(volume: Volume, host: string, dest: string, times: TimePolicy, bar: Progress | null, doneBefore: number, planned?: Stats, compression?: string): EntryInfo {
  let fd: number;
  try {
    fd = planned ? openSync(host, 'r') : openSync(host, LISTED_FILE);
  } catch (error) {
    throw fromSystemError(error, host, 'open');
  }
  try {
    // An operand's small file uses its stat from the plan (a file that shrank since is still
    // caught by readHostFileFully). A big file streams, so its size is the open file's.
    let st = planned && planned.isFile() && planned.size <= READ_WHOLE_LIMIT ? planned : null;
    if (st === null) {
      try {
        st = fstatSync(fd);
      } catch (error) {
        throw fromSystemError(error, host, 'read');
      }
      if (!st.isFile()) throw new DiskkitError(ErrorCode.UNSUPPORTED, 'not a regular file or directory; skipped', { context: { path: host } });
    }
    const t = times.fromHost(st);
    let data: Uint8Array | FileDataSource;
    if (st.size <= READ_WHOLE_LIMIT) {
      let buf: Uint8Array;
      if (st.size <= ARENA_KEEP) {
        if (readArena.length < st.size) readArena = new Uint8Array(Math.min(ARENA_KEEP, Math.max(st.size, 64 * 1024, 2 * readArena.length)));
        buf = readArena.subarray(0, st.size);
      } else buf = Buffer.allocUnsafe(st.size);
      readHostFileFully(fd, buf, st.size, 0, host);
      data = buf;
    } else {
      // A big file streams through one bounded buffer. Mapping it instead saved a copy but
      // cost a page fault per 4 KiB: 1.7-2.0 s of CPU for 1 GiB against 0.8-0.9 s read
      // (and touched every page of a sparse file's holes).
      const size = st.size;
      data = {
        size,
        read: (buf, length, position) => readHostFileFully(fd, buf, length, position, host),
        // Holes are found with SEEK_DATA where the system has it, and never read.
        nextData: (position) => nextDataOffset(fd, position, size) ?? position,
      };
    }
    return volume.writeFile(dest, data, { ...t, compression, onProgress: bar ? (n) => bar.update(doneBefore + n) : undefined });
  } finally {
    closeSync(fd);
  }
}


/**
 * A file of an image, read through its volume's file reader (for the same image, before
 * its copy is linked in), written into `volume`: across formats, openFile on one side
 * and writeFile on the other.
 */
export function writeImageFile(fromVolume: Volume, volume: Volume, from: EntryInfo, dest: string, times: TimePolicy, compression?: string): EntryInfo {
  const data = fromVolume.openFile(from);
  const mtime = times.clamp(from.mtime);
  return volume.writeFile(dest, data, { compression, mtime, atime: times.invariant ? mtime : times.clamp(from.atime ?? from.mtime), ctime: times.invariant ? mtime : times.clamp(new Date()) });
}

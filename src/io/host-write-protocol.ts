/**
 * What the main thread and the host-write worker share (host-write-queue.ts,
 * host-write-worker.ts): the control words, the batch layout and the messages.
 *
 * A batch is a SharedArrayBuffer: a small header of Int32 words, then the bytes of its
 * files back to back. Both threads take a batch's files one at a time through the
 * header's claim cursor (Atomics.add), so the main thread can take its share of the
 * writing when it has nothing left to read, and a file is written by exactly one thread.
 */

/** Control words (Int32Array over a SharedArrayBuffer of CONTROL_WORDS words). */
export const Control = {
  /** Set by the main thread: the worker starts no further file. */
  ABORT: 0,
  /** 1 while the worker has a file open (from before it looks at ABORT until the file is closed). */
  BUSY: 1,
  /** The batch and file index the worker is writing while BUSY. */
  CURRENT_BATCH: 2,
  CURRENT_FILE: 3,
} as const;
export const CONTROL_WORDS = 4;

/** Header words at the start of every batch buffer. */
export const BatchHeader = {
  /** The next file index to claim (Atomics.add by either thread). */
  CURSOR: 0,
} as const;
/** Bytes before a batch's file data (kept a multiple of 8). */
export const BATCH_HEADER_BYTES = 16;

/** Main thread → worker: one batch to write. */
export interface BatchMessage {
  batch: number;
  /** The batch's buffer, sent the first time this batch slot is used (the worker keeps it). */
  buffer?: SharedArrayBuffer;
  count: number;
  /**
   * The files' host paths joined by NUL, which no host path holds: one string clones in a
   * fraction of the time of an array of hundreds (a post per batch showed in cp -r profiles).
   */
  paths: string;
  /** count + 1 offsets into the data area: file i is [offsets[i], offsets[i + 1]). */
  offsets: Int32Array;
  /** atimeMs, mtimeMs per file (NaN: none). */
  times: Float64Array;
}

/** Main thread → worker, once: the control words. */
export interface StartMessage {
  control: SharedArrayBuffer;
}

/** A write that failed, as the worker reports it (an error object does not cross threads whole). */
export interface WriteFailure {
  index: number;
  /** DiskkitError fields when it was one, else the system error's errno code and message. */
  diskkit: boolean;
  code: string;
  message: string;
  context?: Record<string, unknown>;
}

/**
 * Worker → main thread, once, when it has the control words: it can take batches. Until
 * then the main thread keeps its posted batches and writes them itself when it waits for
 * room (a worker takes tens of milliseconds to start, and a batch it has been sent is
 * freed only by its reply).
 */
export interface ReadyReply {
  ready: true;
}

/** Worker → main thread: the worker is done with a batch (it claimed no further file of it). */
export interface BatchReply {
  batch: number;
  /** Files this thread wrote whole, and their bytes. */
  written: number;
  bytes: number;
  failures: WriteFailure[];
}

/**
 * What host-tree-reader.ts and its thread share: the record kinds and the record
 * header. A record is [kind u8][name length u16][size f64][mtime ms f64][data length
 * u32][atime ms f64][birth time ms f64] (little-endian), then the name's bytes, then the
 * data (a file's bytes, or an error's "action\nerrno\nmessage" in UTF-8). The access
 * and birth times are a FILE's (FAT keeps them); 0 in other records.
 */
export const HEADER_BYTES = 39;

export const RecordKind = {
  /** The walk's root directory (its mtime). First record. */
  ROOT: 1,
  /** The next queued directory's entries follow (directories are listed in the order their DIRECTORY records came). */
  DIR_BEGIN: 2,
  /** The next queued directory could not be listed (data: the error); none of its entries follow. */
  DIR_ERROR: 3,
  /** A subdirectory, queued (mtime). */
  DIRECTORY: 4,
  /** A regular file with its bytes as data (size, mtime). */
  FILE: 5,
  /** A regular file too big for a slot (size, mtime): the reader opens and streams it itself. */
  BIG_FILE: 6,
  SYMLINK: 7,
  /** Neither a regular file, a directory nor a link (FIFO, socket, device). */
  OTHER: 8,
  /** A name that is not UTF-8 (no format here can store it). */
  BAD_NAME: 9,
  /** A directory that is its own ancestor (a bind mount): not descended into. */
  LOOP: 10,
  /** A file that shrank while it was read. */
  SHORT: 11,
  /** An entry that could not be opened or read (data: the error). */
  ERROR: 12,
  /** The walk is over. */
  END: 13,
  /** The walk stopped on an unexpected error (data: the error). */
  FATAL: 14,
  /**
   * A file listed as regular but not read (data: its host path): the main thread was
   * waiting for work, so it reads the file itself. The reader turns it into the FILE,
   * BIG_FILE, OTHER, SHORT or ERROR record the thread would have sent; callers never see it.
   */
  UNREAD: 15,
} as const;
export type RecordKindId = (typeof RecordKind)[keyof typeof RecordKind];

export const SlotState = { FREE: 0, FULL: 1 } as const;

/** The control word the main thread sets while it waits for a slot (after the states, the used counts and the cancel flag). */
export const WAITING_INDEX = (slotCount: number): number => 2 * slotCount + 1;

export interface ReaderBoot {
  root: string;
  /** Instead of walking `root`: read these files, in this order (one FILE, BIG_FILE, OTHER, SHORT, ERROR or UNREAD record each, no names). */
  files?: string[];
  /** [state × slotCount][used bytes × slotCount][cancel][main thread waiting], Int32. */
  control: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  slotCount: number;
  slotBytes: number;
  /** Files above this size are BIG_FILE records. */
  readLimit: number;
  /** When the thread hands regular files over unread (UNREAD records). */
  handOver: HandOverId;
}

/** When the reader thread leaves a file for the main thread to read: only while that thread waits (the default), never, or always (tests). */
export const HandOver = { WHEN_WAITING: 0, NEVER: 1, ALWAYS: 2 } as const;
export type HandOverId = (typeof HandOver)[keyof typeof HandOver];

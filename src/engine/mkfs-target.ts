/**
 * Where mkfs writes, whatever the format: a new sparse image file, an existing file
 * or block device (with --force), or one partition of a partitioned disk image.
 * A target that already holds data needs --force; one mkfs created is removed again
 * when formatting fails.
 */
import { closeSync, ftruncateSync, openSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { DiskkitError, ErrorCode, fromSystemError } from './errors.js';
import { FileBlockSource, type BlockSource } from '../io/block-source.js';
import { openImage } from './image.js';
import { heldJournalFor, holdJournal, journalOf, recoverHotJournal, RollbackJournal } from './journal/index.js';


export interface MkfsTarget {
  source: FileBlockSource;
  /** True when the target reads as zeros (new or empty file made sparse). */
  fresh: boolean;
  /** True when mkfs created the file: remove it (removeCreatedTarget) if formatting fails. */
  created: boolean;
  /** Bytes available for the volume. */
  volumeBytes: number;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fromSystemError(error, path, 'inspect image');
  }
}

/**
 * Opens (or creates) the file or device mkfs will format. A new or empty file is
 * created sparse at `size` bytes. An existing non-empty file or a block device is
 * refused without `force` (E_EXISTS); with it, a file is resized to `size` (when
 * given) and formatted in place.
 */
export function openMkfsTarget(path: string, options: { size?: number; force: boolean }): MkfsTarget {
  // A mkfs (or any write) killed earlier on this path is undone first.
  recoverHotJournal(path);
  const st = statOrNull(path);
  const refused = st !== null && (st.isDirectory() || (!st.isFile() && !st.isBlockDevice()) || (!options.force && !(st.isFile() && st.size === 0)));
  // The journal exists before the image is created or resized: a crash from here on is rolled back.
  if (!refused) startMkfsJournal(path, st === null);
  try {
    const target = openTarget(path, st, options);
    target.source.writeGuard = heldJournalFor(path);
    return target;
  } catch (error) {
    finishMkfs(path, false);
    throw error;
  }
}

/**
 * The journal of a whole mkfs (format, then --from fill through a second open), held
 * until `finishMkfs`. For an image mkfs creates, rolling back deletes it; for one
 * formatted in place, every overwritten byte is saved (its free clusters may hold the
 * old file system's files).
 */
function startMkfsJournal(path: string, created: boolean): void {
  const journal = new RollbackJournal(path, { created });
  journal.hold();
  journal.begin();
  holdJournal(path, journal);
}

/** Holds the journal of a target opened through openImage (a partition) for the whole mkfs. */
export function holdTargetJournal(path: string, source: BlockSource): void {
  const journal = journalOf(source);
  if (!journal || heldJournalFor(path) === journal) return;
  journal.hold();
  journal.begin();
  holdJournal(path, journal);
}

/** Ends the mkfs transaction: commit (`ok`) or roll back, which deletes an image mkfs created. */
export function finishMkfs(path: string, ok: boolean): void {
  const journal = heldJournalFor(path);
  if (!journal) return;
  holdJournal(path, null);
  if (ok) journal.commitHeld();
  else journal.rollback();
}

function openTarget(path: string, st: Stats | null, options: { size?: number; force: boolean }): MkfsTarget {
  const need = (what: string) => new DiskkitError(ErrorCode.USAGE, what, { context: { image: path } });
  if (st?.isDirectory()) throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, 'is a directory, not an image', { context: { image: path } });
  if (st && !st.isFile() && !st.isBlockDevice()) throw need('is neither a regular file nor a block device');

  if (st === null || (st.isFile() && st.size === 0)) {
    if (options.size === undefined) throw need('--size is required to create a new image');
    let fd: number;
    try {
      // 'wx' refuses to follow a file that appeared since the check; an empty one is reused.
      fd = openSync(path, st === null ? 'wx' : 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new DiskkitError(ErrorCode.EXISTS, 'appeared while mkfs was starting', { context: { image: path } });
      throw fromSystemError(error, path, 'create image');
    }
    const created = st === null;
    try {
      ftruncateSync(fd, options.size);
    } catch (error) {
      closeSync(fd);
      if (created) removeCreatedTarget(path);
      throw fromSystemError(error, path, `make the image ${options.size} bytes long`);
    }
    closeSync(fd);
    return { source: FileBlockSource.open(path, { writable: true }), fresh: true, created, volumeBytes: options.size };
  }

  if (!options.force) {
    throw new DiskkitError(ErrorCode.EXISTS, st.isBlockDevice() ? 'is a block device: formatting destroys its contents' : 'already exists and is not empty', {
      context: { image: path },
      hint: 'add --force to format it anyway (its contents are lost)',
    });
  }
  if (st.isBlockDevice()) {
    const source = FileBlockSource.open(path, { writable: true });
    if (options.size !== undefined && options.size > source.size) {
      source.close();
      throw need(`--size ${options.size} is larger than the device (${source.size} bytes)`);
    }
    return { source, fresh: false, created: false, volumeBytes: options.size ?? source.size };
  }
  const size = options.size ?? st.size;
  if (size !== st.size) {
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch (error) {
      throw fromSystemError(error, path, 'open image for writing');
    }
    try {
      ftruncateSync(fd, size);
    } catch (error) {
      throw fromSystemError(error, path, `make the image ${size} bytes long`);
    } finally {
      closeSync(fd);
    }
  }
  return { source: FileBlockSource.open(path, { writable: true }), fresh: false, created: false, volumeBytes: size };
}

/** Removes an image mkfs created, after a failure (best effort: the original error matters more). */
export function removeCreatedTarget(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or not ours to remove any more
  }
}

/** A target opened for formatting, with where it starts on its disk. */
export interface OpenedMkfsTarget {
  source: BlockSource;
  fresh: boolean;
  created: boolean;
  volumeBytes: number;
  /** Byte offset of the volume in the image (the partition start; 0 for a whole image). */
  start: number;
}

/**
 * Partition N of an existing disk image, to format in place. One that already holds
 * a file system, or anything but zeros in its first sector, needs --force.
 */
export async function openPartitionTarget(image: string, partition: number, size: number | undefined, force: boolean): Promise<OpenedMkfsTarget> {
  const opened = await openImage(image, { partition, writable: true });
  const { source } = opened;
  try {
    if (!force) {
      const first = new Uint8Array(Math.min(512, source.size));
      source.readAt(first, 0, first.length, 0);
      const what = opened.definition !== null ? `already holds ${withArticle(opened.definition.name.toUpperCase())} file system` : first.some((b) => b !== 0) ? 'is not empty' : null;
      if (what) {
        throw new DiskkitError(ErrorCode.EXISTS, `partition ${partition} ${what}`, {
          context: { partition },
          hint: 'add --force to format it anyway (its contents are lost)',
        });
      }
    }
    if (size !== undefined && size > source.size) {
      throw new DiskkitError(ErrorCode.USAGE, `--size ${size} is larger than partition ${partition} (${source.size} bytes)`);
    }
  } catch (error) {
    source.close();
    throw error;
  }
  return { source, fresh: false, created: false, volumeBytes: size ?? source.size, start: opened.partition!.start };
}

/** The whole image (created when missing) or, with `partition`, that partition of it. */
export async function openFormatTarget(image: string, options: { partition?: number; size?: number; force: boolean }): Promise<OpenedMkfsTarget> {
  if (options.partition !== undefined) return openPartitionTarget(image, options.partition, options.size, options.force);
  return { ...openMkfsTarget(image, { size: options.size, force: options.force }), start: 0 };
}

/** 'a FAT', 'an NTFS' (said "en-tee-eff-ess"). */
function withArticle(name: string): string {
  return `${/^[AEIONS]/.test(name) ? 'an' : 'a'} ${name}`;
}

/**
 * Recovery: before any diskkit command uses an image, a journal left beside it by a
 * command that was killed (or lost power) is rolled back, so the image is exactly as
 * it was before that command. A committed journal (the command finished, only the
 * delete was lost) is just deleted.
 */
import { closeSync, fstatSync, ftruncateSync, fsyncSync, lstatSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import { DiskkitError, ErrorCode, fromSystemError } from '../errors.js';
import { processAlive } from '../process-alive.js';
import { decodeJournalHeader, HEADER_SIZE, JournalFlag, JOURNAL_MAGIC, type JournalHeader } from './journal-format.js';
import { currentBootId, fsyncDirectoryOf, heldJournalFor, journalPathFor, replayRecords } from './rollback-journal.js';
import { recoveries, type Recovery, type RecoveryAction } from './journal-path.js';
export { recoveries, type Recovery, type RecoveryAction } from './journal-path.js';

function sameBoot(bootId: Uint8Array): boolean {
  const now = currentBootId();
  return Buffer.compare(Buffer.from(now), Buffer.from(bootId)) === 0;
}

/**
 * Rolls back a hot journal beside `imagePath`, if there is one. Returns what was done,
 * or null when there was no journal. Throws E_BUSY when the journal belongs to a
 * diskkit process that is still running, and E_JOURNAL when the journal cannot be
 * applied (the image is read-only, or has shrunk since the journal was written).
 */
export function recoverHotJournal(imagePath: string): Recovery | null {
  const journal = journalPathFor(imagePath);
  try {
    lstatSync(journal);
  } catch {
    return null;
  }
  if (heldJournalFor(imagePath)) return null;
  let fd: number;
  try {
    fd = openSync(journal, 'r');
  } catch (error) {
    throw fromSystemError(error, journal, 'open the journal');
  }
  let header: JournalHeader;
  const head = Buffer.alloc(HEADER_SIZE);
  const n = readSync(fd, head, 0, HEADER_SIZE, 0);
  try {
    header = decodeJournalHeader(head.subarray(0, n));
  } catch {
    closeSync(fd);
    // A foreign file is not ours to delete; a torn header means the writer died before its first save, so the image was never touched.
    if (n >= 8 && head.toString('latin1', 0, 8) !== JOURNAL_MAGIC) {
      throw new DiskkitError(ErrorCode.JOURNAL, `${journal} is not a diskkit journal`, { context: { image: imagePath }, hint: 'move that file away' });
    }
    return done(imagePath, journal, 'deleted-empty', 0);
  }
  try {
    if (header.pid !== process.pid && sameBoot(header.bootId) && processAlive(header.pid)) {
      throw new DiskkitError(ErrorCode.BUSY, `diskkit process ${header.pid} is writing this image (journal ${journal})`, {
        context: { image: imagePath },
        hint: 'wait for it to finish; if that process is not diskkit, delete the journal by hand',
      });
    }
    if (header.flags & JournalFlag.COMMITTED) return done(imagePath, journal, 'deleted-committed', 0);
    if (header.flags & JournalFlag.CREATED) {
      // mkfs made this image and did not finish: as before means no image at all.
      try {
        unlinkSync(imagePath);
      } catch {
        // already gone
      }
      return done(imagePath, journal, 'deleted-created-image', 0);
    }
    // Killed before its first save: the image was never touched, so there is nothing to write back.
    if (replayRecords(fd, header.nonce, null, header.imageSize) === 0 && !grewSince(imagePath, header.imageSize)) return done(imagePath, journal, 'deleted-empty', 0);
    let imageFd: number;
    const readOnly = isReadOnlyFile(imagePath);
    try {
      if (readOnly) throw Object.assign(new Error('read-only'), { code: 'EACCES' });
      imageFd = openSync(imagePath, 'r+');
    } catch (error) {
      throw new DiskkitError(ErrorCode.JOURNAL, `an interrupted diskkit write left a journal (${journal}) that needs write access to the image to roll back`, {
        context: { image: imagePath, errno: (error as NodeJS.ErrnoException).code },
        hint: 'make the image writable (chmod u+w) and run any diskkit command on it; other tools see the half-written state until then',
      });
    }
    try {
      const st = fstatSync(imageFd);
      if (st.isFile() && st.size < header.imageSize) {
        throw new DiskkitError(ErrorCode.JOURNAL, `the image is ${st.size} bytes but its journal (${journal}) was written for ${header.imageSize}: not rolling back`, {
          context: { image: imagePath },
          hint: 'the image was replaced or truncated since; delete the journal if the image is the one you want',
        });
      }
      const records = replayRecords(fd, header.nonce, imageFd, header.imageSize);
      if (st.isFile() && st.size > header.imageSize) ftruncateSync(imageFd, header.imageSize);
      fsyncSync(imageFd);
      return done(imagePath, journal, 'rolled-back', records);
    } finally {
      closeSync(imageFd);
    }
  } finally {
    try {
      closeSync(fd);
    } catch {
      // closed above
    }
  }
}

function grewSince(path: string, size: number): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && st.size > size;
  } catch {
    return false;
  }
}

/** A regular file with no write bit for anyone: its owner said "do not write", so diskkit does not (even as root). */
function isReadOnlyFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o222) === 0;
  } catch {
    return false;
  }
}

function done(image: string, journal: string, action: RecoveryAction, records: number): Recovery {
  unlinkSync(journal);
  fsyncDirectoryOf(journal);
  const r = { image, journal, action, records };
  recoveries.push(r);
  return r;
}

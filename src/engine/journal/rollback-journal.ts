/**
 * The rollback journal of one image, as SQLite keeps one for a database: before a
 * byte range of the image is overwritten, its old contents are appended to
 * `IMAGE.diskkit-journal` (and, with sync on, made durable). Committing marks the
 * journal committed and deletes it; rolling back writes the old contents back. A
 * journal left behind by a killed process is "hot" and is rolled back by the next
 * diskkit command that opens the image (recover-journal.ts).
 *
 * Every write to the image file passes through FileBlockSource.writeAt, which calls
 * `beforeWrite` here: that is the one place a metadata write cannot get past. Data
 * written into clusters that were free when the command began is not saved (a rollback
 * makes those clusters free again, so their contents do not matter); the FAT code
 * says which ranges those are through `setUnsavedRanges`.
 */
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { preadUpTo } from '../../io/read-full.js';
import { basename, dirname } from 'node:path';
import type { WriteGuard } from '../../io/block-source.js';
import { DiskkitError, ErrorCode, fromSystemError } from '../errors.js';
import { decodeJournalHeader, decodeRecordHeader, encodeJournalHeader, encodeJournalRecord, HEADER_SIZE, JournalFlag, MAX_RECORD_BYTES, RECORD_HEADER_SIZE, recordIsIntact, type JournalHeader } from './journal-format.js';
import { SectorSet } from './sector-set.js';
import { journalPathFor } from './journal-path.js';
import { unwatchJournal, watchJournal } from './signal-rollback.js';

/** The unit the journal saves: whole 512-byte sectors around each write. */
export const JOURNAL_SECTOR = 512;

let syncByDefault = true;
/** Whether journals fsync (survive power loss) or only survive a killed process. Set once from --sync/--no-sync. */
export function setJournalSync(sync: boolean): void {
  syncByDefault = sync;
}
export function journalSyncEnabled(): boolean {
  return syncByDefault;
}

export { journalPathFor };

/** Journals held open on purpose across several opens of one image in this process (mkfs: format, then fill). */
const held = new Map<string, RollbackJournal>();
export function holdJournal(imagePath: string, journal: RollbackJournal | null): void {
  if (journal) held.set(imagePath, journal);
  else held.delete(imagePath);
}
export function heldJournalFor(imagePath: string): RollbackJournal | undefined {
  return held.get(imagePath);
}

/** The journal behind a source (a partition slice shows its image's), if the image was opened for writing. */
export function journalOf(source: { writeGuard?: unknown }): RollbackJournal | null {
  return source.writeGuard instanceof RollbackJournal ? source.writeGuard : null;
}

/** This boot's id (Linux), so a pid in a journal from before a reboot is not taken for a live writer. */
export function currentBootId(): Uint8Array {
  try {
    const hex = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').replace(/[^0-9a-f]/gi, '');
    if (hex.length === 32) return Uint8Array.from(Buffer.from(hex, 'hex'));
  } catch {
    // not Linux: pids alone decide
  }
  return new Uint8Array(16);
}

export function fsyncDirectoryOf(path: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dirname(path), 'r');
    fsyncSync(fd);
  } catch {
    // some file systems refuse to fsync a directory; the rename/unlink is then as durable as they make it
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export class RollbackJournal implements WriteGuard {
  readonly path: string;
  readonly sync: boolean;
  /** The volume inside the image (partition offset and size), recorded in the header. */
  volume = { offset: 0, size: 0 };
  private fd: number | null = null;
  /** The journal's own descriptor of the image: old contents are read and written back through it. */
  private imageFd: number | null = null;
  private imageIsFile = true;
  private end = HEADER_SIZE;
  private nonce = 0;
  private header: JournalHeader | null = null;
  private readonly saved = new SectorSet();
  private unsaved: ((position: number, length: number) => boolean) | null = null;
  private rolledBack = false;
  /** Held by an outer owner (mkfs): inner commits are deferred, inner hints ignored. */
  private holders = 0;

  constructor(
    readonly imagePath: string,
    options: { sync?: boolean; created?: boolean } = {},
  ) {
    this.path = journalPathFor(imagePath);
    this.sync = options.sync ?? syncByDefault;
    this.created = Boolean(options.created);
  }

  /** The image did not exist before this journal: rolling back deletes it, and nothing needs saving. */
  readonly created: boolean;
  /** Size of the image file when the transaction began. */
  private originalSize = 0;

  /** True while changes are written but not committed. */
  get active(): boolean {
    return this.fd !== null;
  }

  /** Keeps the journal open across inner opens and commits (mkfs formats, then fills). */
  hold(): void {
    this.holders++;
  }

  /**
   * Ranges whose old contents need not be saved (clusters free when the command
   * began). Ignored while the journal is held: a fresh format's free clusters may hold
   * the old file system's data.
   */
  setUnsavedRanges(test: ((position: number, length: number) => boolean) | null): void {
    if (this.holders === 0) this.unsaved = test;
  }

  /** A source using this journal is closing: changes nobody committed are undone. */
  release(): void {
    if (this.holders === 0 && this.fd !== null) this.rollback();
  }

  /** Called by the image source before every write: saves what the write will overwrite. */
  beforeWrite(position: number, length: number): void {
    if (this.rolledBack) {
      throw new DiskkitError(ErrorCode.CANCELLED, 'the command was interrupted and its changes were rolled back', { context: { image: this.imagePath } });
    }
    if (length <= 0) return;
    this.begin();
    if (this.created) return;
    if (this.unsaved?.(position, length)) return;
    let wrote = false;
    const first = Math.floor(position / JOURNAL_SECTOR);
    const last = Math.floor((position + length - 1) / JOURNAL_SECTOR);
    let s = first;
    while (s <= last) {
      if (this.saved.has(s)) {
        s++;
        continue;
      }
      let e = s;
      while (e + 1 <= last && !this.saved.has(e + 1) && (e + 1 - s) * JOURNAL_SECTOR < MAX_RECORD_BYTES) e++;
      const from = s * JOURNAL_SECTOR;
      // Bytes past the size the image had are not saved: a rollback truncates them away.
      const to = Math.min((e + 1) * JOURNAL_SECTOR, this.originalSize);
      if (from < to) {
        const old = new Uint8Array(to - from);
        readFully(this.imageFd!, old, from, this.imagePath);
        this.append(encodeJournalRecord(this.nonce, from, old));
        wrote = true;
      }
      this.saved.addRange(s, e);
      s = e + 1;
    }
    if (wrote && this.sync) fdatasyncSync(this.fd!);
  }

  /** Makes the image's new state permanent and deletes the journal. Deferred while held. */
  commit(): void {
    if (this.holders > 0 || this.fd === null) return;
    this.finish();
  }

  /** The outer owner's commit: releases the hold and commits. */
  commitHeld(): void {
    this.holders = Math.max(0, this.holders - 1);
    this.commit();
  }

  /**
   * Writes the saved contents back (the image as it was when the transaction began) and
   * deletes the journal. Afterwards every write through this journal fails with
   * E_CANCELLED: the writer's in-memory state no longer matches the image.
   */
  rollback(): void {
    if (this.fd === null) return;
    this.rolledBack = true;
    const fd = this.fd;
    this.fd = null;
    unwatchJournal(this);
    const imageFd = this.imageFd;
    this.imageFd = null;
    try {
      if (this.created) {
        try {
          unlinkSync(this.imagePath);
        } catch {
          // already gone
        }
      } else if (imageFd !== null) {
        replayRecords(fd, this.nonce, imageFd, this.originalSize);
        if (this.imageIsFile && fstatSync(imageFd).size > this.originalSize) ftruncateSync(imageFd, this.originalSize);
        if (this.sync) fsyncSync(imageFd);
      }
      closeSync(fd);
      if (imageFd !== null) closeSync(imageFd);
      unlinkSync(this.path);
      if (this.sync) fsyncDirectoryOf(this.path);
    } catch (error) {
      throw fromSystemError(error, this.path, 'roll back the journal');
    }
  }

  /** Creates the journal file (the first write does this by itself; mkfs does it before creating the image). */
  begin(): void {
    if (this.fd !== null) return;
    // Signal handlers first: a Ctrl-C from here on is handled after this synchronous step, with the journal in place.
    watchJournal(this);
    let imageFd: number | null = null;
    if (!this.created) {
      try {
        imageFd = openSync(this.imagePath, 'r+');
        const st = fstatSync(imageFd);
        this.imageIsFile = st.isFile();
        this.originalSize = st.isFile() ? st.size : Number.MAX_SAFE_INTEGER;
      } catch (error) {
        if (imageFd !== null) closeSync(imageFd);
        unwatchJournal(this);
        throw fromSystemError(error, this.imagePath, 'open image for writing');
      }
    }
    let fd: number;
    try {
      fd = openSync(this.path, 'wx+');
    } catch (error) {
      unwatchJournal(this);
      if (imageFd !== null) closeSync(imageFd);
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new DiskkitError(ErrorCode.BUSY, 'another diskkit command is writing this image (its journal exists)', {
          context: { image: this.imagePath, journal: this.path },
        });
      }
      throw fromSystemError(error, this.path, 'create the journal');
    }
    this.imageFd = imageFd;
    // The nonce only tells this journal's records from a stale one's (no secrecy): Math.random
    // (seeded by the OS) is enough, and node:crypto's load (15 M instructions here) is saved.
    this.nonce = Math.floor(Math.random() * 0xffffffff);
    this.header = {
      flags: this.created ? JournalFlag.CREATED : 0,
      imageSize: this.originalSize,
      volumeOffset: this.volume.offset,
      volumeSize: this.volume.size,
      nonce: this.nonce,
      pid: process.pid,
      bootId: currentBootId(),
      name: basename(this.imagePath),
    };
    this.fd = fd;
    this.end = 0;
    this.saved.clear();
    this.append(encodeJournalHeader(this.header));
    if (this.sync) {
      fsyncSync(fd);
      fsyncDirectoryOf(this.path);
    }
  }

  private append(bytes: Uint8Array): void {
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd!, bytes, done, bytes.length - done, this.end + done);
    } catch (error) {
      throw fromSystemError(error, this.path, 'write the journal');
    }
    this.end += bytes.length;
  }

  private finish(): void {
    const fd = this.fd!;
    try {
      if (this.sync) fsyncImage(this.imageFd, this.imagePath);
      // The commit mark: should the delete below not survive a power cut, the journal says the image is already final.
      const header = encodeJournalHeader({ ...this.header!, flags: this.header!.flags | JournalFlag.COMMITTED });
      writeSync(fd, header, 0, header.length, 0);
      if (this.sync) fdatasyncSync(fd);
      closeSync(fd);
      if (this.imageFd !== null) closeSync(this.imageFd);
      unlinkSync(this.path);
      if (this.sync) fsyncDirectoryOf(this.path);
    } catch (error) {
      throw fromSystemError(error, this.path, 'commit the journal');
    } finally {
      this.fd = null;
      this.imageFd = null;
      this.saved.clear();
      unwatchJournal(this);
    }
  }
}

/** fsync of the image: through the journal's descriptor, or (an image mkfs created) a fresh one. */
function fsyncImage(fd: number | null, path: string): void {
  if (fd !== null) return fsyncSync(fd);
  const own = openSync(path, 'r');
  try {
    fsyncSync(own);
  } finally {
    closeSync(own);
  }
  fsyncDirectoryOf(path);
}

function readFully(fd: number, buf: Uint8Array, position: number, path: string): void {
  if (preadUpTo(fd, buf, 0, buf.length, position) < buf.length) {
    throw new DiskkitError(ErrorCode.SHORT_READ, `image ends before byte ${position + buf.length}`, { context: { image: path, position } });
  }
}

/**
 * Writes every intact record of the journal open on `journalFd` back to the image on
 * `imageFd` (null: only counts them). Reading stops at the first record that is torn or not of this journal
 * (its image write never began). A record outside the image's original size is
 * corrupt: nothing is written then.
 */
export function replayRecords(journalFd: number, nonce: number, imageFd: number | null, imageSize: number): number {
  const records: { position: number; data: Uint8Array }[] = [];
  const head = new Uint8Array(RECORD_HEADER_SIZE);
  let at = HEADER_SIZE;
  for (;;) {
    if (readSync(journalFd, head, 0, head.length, at) < head.length) break;
    const r = decodeRecordHeader(head);
    if (!r) break;
    const data = new Uint8Array(r.length);
    if (readSync(journalFd, data, 0, data.length, at + head.length) < data.length) break;
    if (!recordIsIntact(nonce, head, data)) break;
    if (r.position + r.length > imageSize) {
      throw new DiskkitError(ErrorCode.JOURNAL, `journal record for bytes ${r.position}..${r.position + r.length} lies past the image's original size ${imageSize}`, {
        context: { position: r.position },
      });
    }
    records.push({ position: r.position, data });
    at += head.length + r.length;
    // Bounded: a journal holds the old metadata of one command; replay in batches would need two passes.
    if (records.length > 10_000_000) throw new DiskkitError(ErrorCode.LIMIT, 'journal holds too many records', {});
  }
  // Without an image descriptor this only counts (recovery asks whether anything needs writing back).
  if (imageFd === null) return records.length;
  for (const { position, data } of records) {
    let done = 0;
    while (done < data.length) done += writeSync(imageFd, data, done, data.length - done, position + done);
  }
  return records.length;
}

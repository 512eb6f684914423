/**
 * The write side of a FAT volume: create, replace, remove and move entries.
 *
 * Every operation first finds and allocates everything it needs (data clusters,
 * directory growth) and only then changes anything, so a failure (volume full,
 * fixed root full, bad name) takes nothing and leaves the volume as it was. A
 * replaced file's data goes to new clusters; the entry is switched, then the old
 * clusters are freed. FAT sectors, directory slots and the FSInfo hints are written
 * back by `flush`, once per command; FAT[1]'s clean-shutdown bit is cleared on disk
 * before the first change and restored by `flush` (fatgen103 section 4).
 */
import { readBytes } from '../../io/block-source.js';
import { writeU32LE } from '../binary.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import type { EntryInfo, FileDataSource, WriteFileOptions } from '../volume.js';
import { ClusterAllocator } from './allocator.js';
import { Attr, DIR_ENTRY_SIZE, encodeDirEntry, type DirEntry } from './dir-entry.js';
import type { DirRecord } from './directory.js';
import { dotEntry, newDirEntry, slotsFor, validateNewName, WritableDirectory, type SlotReservation } from './directory-writer.js';
import type { ClusterRun } from './fat-table.js';
import { isFileDataSource, writeFileData } from './file-writer.js';
import { DataWriteBatch } from './data-write-batch.js';
import { decodeFsInfo } from './fsinfo.js';
import type { DirectoryRef, FatVolumeState as FatVolume } from './volume-state.js';
import { joinPath, splitPath } from '../volume-path.js';
import type { RollbackJournal } from '../journal/index.js';

/**
 * The rollback journal guarding `source`'s writes, if any. Only journals are write
 * guards (image.ts, mkfs-target.ts attach them); checked by shape rather than with
 * instanceof, so that reading a FAT volume does not load the journal code.
 */
function journalOf(source: { writeGuard?: unknown }): RollbackJournal | null {
  const guard = source.writeGuard as Partial<RollbackJournal> | undefined;
  return guard !== undefined && typeof guard.commit === 'function' && typeof guard.setUnsavedRanges === 'function' ? (guard as RollbackJournal) : null;
}
import { freeClusterTest, freeInSnapshot } from './unsaved-clusters.js';

/** FAT's file size field is 32 bits (fatgen103 section 6). */
export const MAX_FAT_FILE_SIZE = 0xffffffff;

/** The attribute bits attrib may change: read-only, hidden, system, archive. */
export const CHANGEABLE_ATTRIBUTES = Attr.READ_ONLY | Attr.HIDDEN | Attr.SYSTEM | Attr.ARCHIVE;

export interface MkdirOptions {
  parents?: boolean;
  mtime?: Date;
}

export class FatWriter {
  private allocatorValue: ClusterAllocator | null = null;
  private readonly directories = new Map<number, WritableDirectory>();
  /** True once the clean-shutdown bit has been cleared on disk for the current batch of changes. */
  private markedDirty = false;
  private wasClean: boolean | null = null;
  /**
   * The parent directory of the last path written, keyed by that path's text up to its
   * last '/': a tree copy writes a directory's files one after another, and each would
   * otherwise split and look up its parent's path again. Dropped when directories move.
   */
  private lastParent: { text: string; ref: DirectoryRef } | null = null;
  /** Small files' data waiting for one write (data-write-batch.ts); written before any metadata. */
  private readonly dataBatch: DataWriteBatch;

  constructor(private readonly volume: FatVolume) {
    const b = volume.boot;
    this.dataBatch = new DataWriteBatch(volume.source, { dataStart: b.firstDataSector * b.bytesPerSector, clusterBytes: b.bytesPerCluster });
  }

  /** A loaded directory, whose growth the data batch may run over until it is written back. */
  private track(dir: WritableDirectory): WritableDirectory {
    dir.onGrowth = (runs) => this.dataBatch.noteDirectoryClusters(runs);
    return dir;
  }

  /**
   * Writes the file data still gathered in memory: before anything reads file data
   * through the volume. Throws the error of a batch write that failed earlier.
   */
  flushData(): void {
    this.dataBatch.flush();
  }

  /** The free-cluster bitmap, built from the FAT on first use. */
  get allocator(): ClusterAllocator {
    if (!this.allocatorValue) {
      const b = this.volume.boot;
      let hint: number | null = null;
      if (b.fatType === 'fat32' && b.fsInfoSector > 0 && b.fsInfoSector < b.reservedSectors) {
        hint = decodeFsInfo(readBytes(this.volume.source, b.fsInfoSector * b.bytesPerSector, 512), b.clusterCount).nextFree;
      }
      this.allocatorValue = ClusterAllocator.fromFat(this.volume.fat, hint);
    }
    return this.allocatorValue;
  }

  /** The writable view of a directory already loaded, if any (the read side looks names up in it instead of parsing). */
  loadedDirectory(cluster: number): WritableDirectory | undefined {
    return this.directories.get(cluster);
  }

  /** The in-memory slots of a directory being written, if any (the read side parses these instead of the disk). */
  pendingBytes(cluster: number): Uint8Array | undefined {
    return this.directories.get(cluster)?.bytes;
  }

  writeFile(path: string, data: Uint8Array | FileDataSource, options: WriteFileOptions & { onProgress?: (bytes: number) => void } = {}): EntryInfo {
    // Files whose data a failed batch write lost are already in their directories: nothing more may be added.
    if (this.dataBatch.failure !== null) throw this.dataBatch.failure;
    const { parent, name, full } = this.parentOf(path);
    validateNewName(name, full);
    const dir = this.directory(parent);
    const existing = dir.find(name);
    if (existing?.isDirectory) throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, 'is a directory', { context: { path: joinPath(parent.path, existing.name) } });
    if (existing && options.noClobber) return this.volume.entryInfo(existing, joinPath(parent.path, existing.name));
    const size = isFileDataSource(data) ? data.size : data.length;
    if (size > MAX_FAT_FILE_SIZE) {
      throw new DiskkitError(ErrorCode.LIMIT, `file of ${size} bytes is larger than FAT allows (4 GiB - 1)`, { context: { path: full, size } });
    }
    // The old chain is walked (and validated) before anything changes.
    const oldRuns = existing ? this.chainRuns(existing.entry.startCluster, joinPath(parent.path, existing.name)) : [];
    this.beginChange();
    const allocator = this.allocator;
    const clusterBytes = this.volume.boot.bytesPerCluster;
    const runs = allocator.allocate(Math.ceil(size / clusterBytes));
    let reservation: SlotReservation | null = null;
    const entryName = existing ? null : dir.nameFor(name);
    try {
      if (entryName) reservation = dir.reserve(slotsFor(entryName), allocator);
      writeFileData(this.volume.source, this.volume.fat, clusterBytes, runs, data, options.onProgress, this.dataBatch);
    } catch (error) {
      allocator.release(runs);
      if (reservation) allocator.release(reservation.growth);
      throw error;
    }
    this.volume.fat.linkRuns(runs);
    const now = new Date();
    const mtime = options.mtime ?? now;
    const times = { mtime, atime: options.atime ?? mtime, ctime: options.ctime ?? now };
    const startCluster = runs[0]?.start ?? 0;
    let record: DirRecord;
    if (existing) {
      const fresh = newDirEntry({ name, rawShort: existing.entry.rawName, ntFlags: existing.entry.ntFlags, longSlotCount: 0 }, {
        attributes: existing.entry.attributes | Attr.ARCHIVE,
        startCluster,
        fileSize: size,
        ...times,
      });
      // cp replaces the contents, not the identity: keep the creation time.
      fresh.createDate = existing.entry.createDate;
      fresh.createTime = existing.entry.createTime;
      fresh.createTimeTenth = existing.entry.createTimeTenth;
      dir.rewrite(existing, fresh);
      this.freeRuns(oldRuns);
      record = existing;
    } else {
      record = dir.insert(reservation!, entryName!, newDirEntry(entryName!, { attributes: Attr.ARCHIVE, startCluster, fileSize: size, ...times }));
    }
    this.volume.forgetDirectory(parent.cluster);
    return this.volume.entryInfo(record, joinPath(parent.path, record.name));
  }

  mkdir(path: string, options: MkdirOptions = {}): EntryInfo {
    const parts = splitPath(path);
    if (parts.length === 0) {
      if (options.parents) return this.volume.stat('/');
      throw new DiskkitError(ErrorCode.EXISTS, 'file exists', { context: { path: '/' } });
    }
    const when = options.mtime ?? new Date();
    let ref: DirectoryRef = this.volume.directoryAt('/');
    let info: EntryInfo | null = null;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      const dir = this.directory(ref);
      const existing = dir.find(name);
      const here = joinPath(ref.path, existing?.name ?? name);
      const last = i === parts.length - 1;
      if (existing) {
        if (!existing.isDirectory) throw new DiskkitError(last ? ErrorCode.EXISTS : ErrorCode.NOT_A_DIRECTORY, last ? 'file exists' : 'not a directory', { context: { path: here } });
        if (last && !options.parents) throw new DiskkitError(ErrorCode.EXISTS, 'file exists', { context: { path: here } });
        ref = this.volume.directoryAt(here);
        if (last) info = this.volume.entryInfo(existing, here);
        continue;
      }
      if (!last && !options.parents) throw new DiskkitError(ErrorCode.NOT_FOUND, 'no such file or directory', { context: { path: here } });
      const created = this.createDirectory(ref, name, here, when);
      ref = created.ref;
      info = created.info;
    }
    return info!;
  }

  remove(path: string, options: { recursive?: boolean } = {}): void {
    this.lastParent = null;
    const { parent, name, full } = this.parentOf(path, 'remove');
    const dir = this.directory(parent);
    const record = dir.find(name);
    if (!record) throw new DiskkitError(ErrorCode.NOT_FOUND, 'no such file or directory', { context: { path: full } });
    const here = joinPath(parent.path, record.name);
    const runs: ClusterRun[] = [];
    const removedDirs: number[] = [];
    if (record.isDirectory) {
      if (!options.recursive) throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, 'is a directory (use rm -r)', { context: { path: here } });
      this.collectTree(this.volume.childRef(record, here, parent), runs, removedDirs);
    } else runs.push(...this.chainRuns(record.entry.startCluster, here));
    this.beginChange();
    dir.delete(record);
    this.freeRuns(runs);
    for (const cluster of removedDirs) {
      this.directories.delete(cluster);
      this.volume.forgetDirectory(cluster);
    }
    this.volume.forgetDirectory(parent.cluster);
    if (record.isDirectory) this.volume.forgetPaths();
  }

  rename(from: string, to: string): EntryInfo {
    this.lastParent = null;
    const src = this.parentOf(from, 'move');
    const srcDir = this.directory(src.parent);
    const record = srcDir.find(src.name);
    if (!record) throw new DiskkitError(ErrorCode.NOT_FOUND, 'no such file or directory', { context: { path: src.full } });
    const srcPath = joinPath(src.parent.path, record.name);
    const dst = this.parentOf(to, 'replace');
    validateNewName(dst.name, dst.full);
    const dstDir = this.directory(dst.parent);
    let movedRef: DirectoryRef | null = null;
    if (record.isDirectory) {
      movedRef = this.volume.childRef(record, srcPath, src.parent);
      for (let up: DirectoryRef | null | undefined = dst.parent; up; up = up.parent) {
        if (up.cluster === movedRef.cluster) {
          throw new DiskkitError(ErrorCode.INVALID_MOVE, `cannot move a directory into itself`, { context: { path: srcPath, target: dst.full } });
        }
      }
    }
    const sameDir = srcDir === dstDir;
    const existing = dstDir.find(dst.name);
    const self = existing === record;
    if (self && record.name === dst.name) return this.volume.entryInfo(record, srcPath);
    let replacedRuns: ClusterRun[] = [];
    if (existing && !self) {
      const there = joinPath(dst.parent.path, existing.name);
      if (existing.isDirectory) throw new DiskkitError(ErrorCode.EXISTS, record.isDirectory ? 'directory exists' : 'cannot overwrite a directory with a file', { context: { path: there } });
      if (record.isDirectory) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, 'cannot overwrite a file with a directory', { context: { path: there } });
      replacedRuns = this.chainRuns(existing.entry.startCluster, there);
    }
    this.beginChange();
    // Slots are given up before the new entry is placed: a replaced target must not keep
    // its names, and within one directory a case-only rename (readme.txt -> README.TXT)
    // can take its own short name back. On failure both are put back.
    const slotsOf = (dir: WritableDirectory, r: DirRecord): Uint8Array => dir.bytes.slice(r.firstSlotIndex * DIR_ENTRY_SIZE, (r.slotIndex + 1) * DIR_ENTRY_SIZE);
    const replaced = existing && !self ? { record: existing, saved: slotsOf(dstDir, existing) } : null;
    const savedSelf = sameDir ? slotsOf(srcDir, record) : null;
    if (replaced) dstDir.delete(replaced.record);
    if (savedSelf) srcDir.delete(record);
    let inserted: DirRecord;
    try {
      const entryName = dstDir.nameFor(dst.name);
      const reservation = dstDir.reserve(slotsFor(entryName), this.allocator);
      inserted = dstDir.insert(reservation, entryName, { ...record.entry, rawName: entryName.rawShort, ntFlags: entryName.ntFlags });
    } catch (error) {
      if (savedSelf) srcDir.restore(record, savedSelf);
      if (replaced) dstDir.restore(replaced.record, replaced.saved);
      throw error;
    }
    if (!sameDir) srcDir.delete(record);
    if (replaced) this.freeRuns(replacedRuns);
    if (movedRef && !sameDir) {
      const isRoot = dst.parent.cluster === this.volume.rootCluster;
      this.directory(movedRef).setParent(isRoot ? 0 : dst.parent.cluster);
      this.volume.forgetDirectory(movedRef.cluster);
    }
    this.volume.forgetDirectory(src.parent.cluster);
    this.volume.forgetDirectory(dst.parent.cluster);
    if (record.isDirectory) this.volume.forgetPaths();
    return this.volume.entryInfo(inserted, joinPath(dst.parent.path, inserted.name));
  }

  /**
   * Sets and clears attribute bits of an entry (mattrib). Only read-only, hidden,
   * system and archive can change: the directory and volume bits say what an entry is.
   */
  setAttributes(path: string, change: { set: number; clear: number }): EntryInfo {
    const { parent, name, full } = this.parentOf(path, 'change the attributes of');
    const dir = this.directory(parent);
    const record = dir.find(name);
    if (!record) throw new DiskkitError(ErrorCode.NOT_FOUND, 'no such file or directory', { context: { path: full } });
    const attributes = (record.entry.attributes & ~(change.clear & CHANGEABLE_ATTRIBUTES)) | (change.set & CHANGEABLE_ATTRIBUTES);
    if (attributes !== record.entry.attributes) {
      this.beginChange();
      dir.rewrite(record, { ...record.entry, attributes });
      this.volume.forgetDirectory(parent.cluster);
    }
    return this.volume.entryInfo(record, joinPath(parent.path, record.name));
  }

  /** Writes, replaces or (null) removes the root directory's volume-label entry. */
  setRootLabelEntry(entry: DirEntry | null): void {
    const root = this.directory(this.volume.directoryAt('/'));
    this.beginChange();
    root.setLabelEntry(entry, this.allocator);
    this.volume.forgetDirectory(root.cluster);
  }

  /**
   * Writes directories, FAT copies and FSInfo back, marks the volume clean again, and
   * commits the journal: the command's changes are then permanent. When a write fails
   * half-way, the journal puts the image back as it was before the command.
   */
  flush(): void {
    const journal = journalOf(this.volume.source);
    try {
      this.writeBack();
      journal?.commit();
    } catch (error) {
      if (journal) {
        journal.rollback();
        // What was pending is gone with the rollback: closing must not try to write it again.
        this.markedDirty = false;
      }
      throw error;
    }
  }

  private writeBack(): void {
    const source = this.volume.source;
    // Data first: nothing written below may point at clusters whose bytes are still in memory.
    // A batch that failed throws here, before any metadata is written, and the journal rolls back.
    this.dataBatch.flush();
    this.dataBatch.forgetDirectoryClusters();
    for (const dir of this.directories.values()) dir.flush(source);
    const b = this.volume.boot;
    if (this.allocatorValue && b.fatType === 'fat32' && b.fsInfoSector > 0 && b.fsInfoSector < b.reservedSectors) {
      const position = b.fsInfoSector * b.bytesPerSector;
      const sector = readBytes(source, position, 512);
      // Only a sector that is FSInfo is updated: a bad pointer must not make us overwrite something else.
      if (decodeFsInfo(sector, b.clusterCount).valid) {
        writeU32LE(sector, 488, this.allocatorValue.freeCount);
        writeU32LE(sector, 492, this.allocatorValue.nextFree);
        source.writeAt(sector, 0, 512, position);
      }
    }
    if (this.markedDirty && this.wasClean) this.volume.fat.cleanShutdown = true;
    this.volume.fat.flush();
    this.markedDirty = false;
  }

  /** Whether anything waits for `flush`. */
  get hasChanges(): boolean {
    return this.markedDirty;
  }

  /** The Windows-style "dirty volume" mark, on disk before the first change of a batch. */
  private beginChange(): void {
    if (!this.volume.writable) {
      throw new DiskkitError(ErrorCode.IO, 'image opened read-only', { context: { image: this.volume.source.name } });
    }
    if (this.markedDirty) return;
    // Which clusters are free now, before this batch changes anything: the journal need not save writes into them.
    const journal = journalOf(this.volume.source);
    if (journal) journal.setUnsavedRanges(freeClusterTest(this.volume.boot, this.volume.source.baseOffset, freeInSnapshot(this.allocator.snapshotUsed())));
    const fat = this.volume.fat;
    this.wasClean ??= fat.cleanShutdown;
    if (this.wasClean) {
      fat.cleanShutdown = false;
      fat.flush();
    }
    this.markedDirty = true;
  }

  private createDirectory(parent: DirectoryRef, name: string, path: string, when: Date): { ref: DirectoryRef; info: EntryInfo } {
    validateNewName(name, path);
    const dir = this.directory(parent);
    this.beginChange();
    const allocator = this.allocator;
    const [run] = allocator.allocate(1);
    const cluster = run!.start;
    let reservation: SlotReservation;
    const entryName = dir.nameFor(name);
    try {
      reservation = dir.reserve(slotsFor(entryName), allocator);
    } catch (error) {
      allocator.release([run!]);
      throw error;
    }
    this.volume.fat.linkRuns([run!]);
    const b = this.volume.boot;
    const bytes = new Uint8Array(b.bytesPerCluster);
    const isRoot = parent.cluster === this.volume.rootCluster;
    encodeDirEntry(dotEntry('.', cluster, when), bytes, 0, b.fatType);
    // fatgen103 section 6.2: '..' of a directory in the root points at cluster 0, also on FAT32.
    encodeDirEntry(dotEntry('..', isRoot ? 0 : parent.cluster, when), bytes, DIR_ENTRY_SIZE, b.fatType);
    const child = this.track(new WritableDirectory(cluster, path, bytes, [{ start: cluster, count: 1 }], b, this.volume.fat));
    child.markAllDirty();
    this.dataBatch.noteDirectoryClusters([run!]);
    this.directories.set(cluster, child);
    const record = dir.insert(reservation, entryName, newDirEntry(entryName, { attributes: Attr.DIRECTORY, startCluster: cluster, fileSize: 0, mtime: when, atime: when, ctime: when }));
    const full = joinPath(parent.path, record.name);
    const ref: DirectoryRef = { cluster, path: full, parent };
    this.volume.rememberDirectory(full, ref);
    this.volume.forgetDirectory(parent.cluster);
    return { ref, info: this.volume.entryInfo(record, full) };
  }

  /** The writable view of a directory, loaded on first use. */
  private directory(ref: DirectoryRef): WritableDirectory {
    let dir = this.directories.get(ref.cluster);
    if (!dir) {
      const bytes = this.volume.readDirectoryBytes(ref);
      const runs = ref.cluster === 0 ? null : this.volume.fat.runs(ref.cluster, bytes.length / this.volume.boot.bytesPerCluster, `directory ${ref.path}`);
      dir = this.track(new WritableDirectory(ref.cluster, ref.path, Uint8Array.from(bytes), runs, this.volume.boot, this.volume.fat));
      this.directories.set(ref.cluster, dir);
    }
    return dir;
  }

  /** Splits `path` into its parent directory (which must exist) and last name; refuses '/'. */
  private parentOf(path: string, verb = 'write'): { parent: DirectoryRef; name: string; full: string } {
    const slash = path.lastIndexOf('/');
    if (slash >= 0 && this.lastParent !== null) {
      const name = path.slice(slash + 1);
      // A plain last name under the same parent text resolves as before ('.', '..' and '' change the parent).
      if (name !== '' && name !== '.' && name !== '..' && this.lastParent.text.length === slash && path.startsWith(this.lastParent.text)) {
        const parent = this.lastParent.ref;
        return { parent, name, full: joinPath(parent.path, name) };
      }
    }
    const found = this.parentOfSlow(path, verb);
    const name = path.slice(slash + 1);
    if (slash >= 0 && name !== '' && name !== '.' && name !== '..') this.lastParent = { text: path.slice(0, slash), ref: found.parent };
    return found;
  }

  private parentOfSlow(path: string, verb: string): { parent: DirectoryRef; name: string; full: string } {
    const parts = splitPath(path);
    if (parts.length === 0) throw new DiskkitError(ErrorCode.USAGE, `cannot ${verb} the root directory`, { context: { path: '/' } });
    const parentPath = '/' + parts.slice(0, -1).join('/');
    const parent = this.volume.directoryAt(parentPath);
    const name = parts[parts.length - 1]!;
    return { parent, name, full: joinPath(parent.path, name) };
  }

  /** The validated runs of a chain starting at `start` (none for 0, an empty file). */
  private chainRuns(start: number, path: string): ClusterRun[] {
    if (start === 0) return [];
    try {
      return this.volume.fat.runs(start, Infinity, `chain of ${path}`);
    } catch (error) {
      if (error instanceof DiskkitError) error.context.path ??= path;
      throw error;
    }
  }

  /** Every cluster of a directory tree (the directory's own chain included), and the directories in it. */
  private collectTree(ref: DirectoryRef, runs: ClusterRun[], dirs: number[]): void {
    runs.push(...this.chainRuns(ref.cluster, ref.path));
    dirs.push(ref.cluster);
    const records = this.volume.readDirectory(ref).records;
    for (const r of records) {
      if (r.isDot || r.deleted) continue;
      const path = joinPath(ref.path, r.name);
      if (r.isDirectory) this.collectTree(this.volume.childRef(r, path, ref), runs, dirs);
      else runs.push(...this.chainRuns(r.entry.startCluster, path));
    }
  }

  private freeRuns(runs: readonly ClusterRun[]): void {
    const fat = this.volume.fat;
    for (const run of runs) {
      for (let c = run.start; c < run.start + run.count; c++) {
        fat.set(c, 0);
        this.dataBatch.forgetCluster(c);
      }
    }
    this.allocator.release(runs);
  }
}

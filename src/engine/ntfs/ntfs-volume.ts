/**
 * An NTFS volume, read-only, behind the format-neutral Volume interface.
 *
 * Paths resolve from the root (record 5) through each directory's `$I30` index,
 * comparing names through the volume's `$UpCase` table (nameKey). A path's last
 * component may name a stream: `/dir/file:stream` (an alternate data stream; the
 * whole name is tried first, so a name holding ':' still resolves). Entries carry
 * their MFT record, so list/openFile given an EntryInfo need no lookup.
 *
 * Listings read `$I30` for one directory and the entries' own records (sizes, times
 * and DOS attributes come from `$STANDARD_INFORMATION` and `$DATA`, not from the
 * possibly stale copies in the index). Measured (100,000-file volume of
 * bench/make-large-ntfs.sh, a 2-core machine at load average ~21, so figures are
 * inflated and only comparable within one run): one directory of 1,000 entries
 * through `$I30` 0.5–0.65 s in process (most of it opening the volume and the
 * first record blocks) where the MFT index must scan the whole 100 MB MFT
 * (`mft index` 4.7–4.9 s); the whole tree through `$I30` 1.7 s in process
 * (`ls -R --json` 5.5–6.6 s as a command) against `mft index` 4.7–4.9 s and
 * `fls -r -p` 3.5–4.7 s. So both jobs use `$I30` here; walks read each entry's
 * record in place from a fixed-up block cache (RecordReader.summary). The MFT
 * indexer is also asynchronous (read modes, worker threads) while Volume.walk is
 * synchronous. To revisit on a quiet machine with the 1M-file volume
 * (bench/ntfs-read.bench.js measures both).
 *
 * Deleted entries (`--deleted`) cannot come from `$I30`: the first listing that asks
 * scans the MFT once for records not in use and groups their names by parent.
 *
 * Raw extents: `capabilities.rawExtents` is true, but per file: `fileExtents` returns
 * extents only for a plain non-resident stream (not compressed, no sparse run, fully
 * initialized) and throws E_UNSUPPORTED otherwise; callers then read through openFile
 * (rawExtentsOf in extent-reader.ts does that fallback).
 */
import type { BlockSource } from '../../io/block-source.js';
import { readBytes } from '../../io/block-source.js';
import { DiskkitError, ErrorCode, type DiskkitWarning } from '../errors.js';
import type { EntryInfo, Extent, FileDataSource, ListOptions, Volume, VolumeCapabilities, VolumeInfo, WalkEntry, WalkOptions, WalkVisitor } from '../volume.js';
import { decodeNtfsBootSector, type NtfsGeometry } from './boot-sector.js';
import { locateMft } from './mft-source.js';
import { RecordReader, type RecordSummary } from './record-reader.js';
import { attributeNames, attributeNamesOf, dataStreams, loadFile, openDataStream, streamSize, visibleNames, type FileName, type FileRecord } from './file-record.js';
import { forEachIndexEntry, type IndexEntry } from './directory-index.js';
import { emptyStream, openStream, readWholeStream, type StreamSource, type VolumeGeometry } from './stream-reader.js';
import { decodeUpcase, upcaseName, UPCASE_BYTES, type UpcaseTable } from './upcase.js';
import { BITMAP_RECORD, countUsedClusters, describeVolume, VOLUME_RECORD } from './volume-info.js';
import { FileNamespace } from './attributes/x30-file-name.js';
import { ROOT_RECORD } from './mft-record.js';
import { childPath, NtfsEntryInfo, splitPath } from './entry-info.js';
import { ORPHAN_DIR } from './paths.js';

const UPCASE_RECORD = 10;
/** readFile holds the whole file in memory: the same cap as FAT's. */
export const MAX_READFILE_BYTES = 1024 * 1024 * 1024;
/** Entries of one directory; a hostile index claiming more is cut off with an error. */
const MAX_DIRECTORY_ENTRIES = 10_000_000;

/** Decoded records kept by NtfsVolume.file (first in, first out). */
const RECENT_FILES = 64;

interface Resolved {
  file: FileRecord;
  stream: string;
  path: string;
  name: string;
}

/**
 * Whether a deleted record's name belongs in directory `dir` (the record its parent
 * reference names): the reference's sequence number must be the directory's, or one
 * less when the directory is deleted too (freeing a record bumps it). Otherwise the
 * record was reused since. The MFT indexer's parentOk rule, and TSK's.
 */
function parentMatches(dir: FileRecord, name: FileName): boolean {
  return name.parentSequence === dir.sequence || (!dir.inUse && ((name.parentSequence + 1) & 0xffff) === dir.sequence);
}

export class NtfsVolume implements Volume {
  readonly format = 'ntfs';
  readonly capabilities: VolumeCapabilities = {
    writable: false,
    formatWritable: false,
    caseInsensitive: true,
    shortNames: false,
    streams: true,
    hardLinks: true,
    deletedEntries: true,
    snapshots: false,
    encryption: false,
    rawExtents: true,
  };
  readonly warnings: DiskkitWarning[] = [];
  partition?: { index: number; start: number; size: number; type: string } | null = null;
  readonly geometry: NtfsGeometry;
  private readonly records: RecordReader;
  private readonly volumeGeometry: VolumeGeometry;
  /** $UpCase, read on the first name comparison that needs it (a cp -r of exact paths never does). */
  private upcaseTable: UpcaseTable | null = null;
  private deletedByParent: Map<number, number[]> | null = null;
  private orphans: { record: number; names: string[] }[] | null = null;
  private readonly recentFiles = new Map<number, FileRecord>();
  /** Directories list() was asked for: record → path (its names folded by nameKey). */
  private readonly listedDirectories = new Map<number, string>();

  private constructor(readonly source: BlockSource) {
    this.geometry = decodeNtfsBootSector(readBytes(source, 0, 512));
    const layout = locateMft(source);
    this.warnings.push(...layout.warnings);
    this.records = new RecordReader(layout);
    this.volumeGeometry = { source, clusterSize: this.geometry.clusterSize, clusterCount: this.geometry.clusterCount };
  }

  private get upcase(): UpcaseTable {
    if (this.upcaseTable) return this.upcaseTable;
    let upcaseBytes: Uint8Array | null = null;
    try {
      const stream = openDataStream(this.volumeGeometry, this.file(UPCASE_RECORD), '');
      if (stream) upcaseBytes = readWholeStream(stream, UPCASE_BYTES, '$UpCase');
    } catch (error) {
      if (!(error instanceof DiskkitError)) throw error;
      this.warnings.push({ code: error.code, message: `$UpCase unreadable (${error.message}); names compare by code unit`, context: { record: UPCASE_RECORD } });
    }
    return (this.upcaseTable = decodeUpcase(upcaseBytes));
  }

  /** Opens the NTFS volume on `source` (read-only whatever `writable` asks). */
  static open(source: BlockSource): NtfsVolume {
    return new NtfsVolume(source);
  }

  info(): VolumeInfo {
    let volumeFile: FileRecord | null = null;
    let used = NaN;
    try {
      volumeFile = this.file(VOLUME_RECORD);
    } catch (error) {
      if (!(error instanceof DiskkitError)) throw error;
    }
    try {
      used = countUsedClusters(this.volumeGeometry, this.file(BITMAP_RECORD), this.geometry.clusterCount);
    } catch (error) {
      if (!(error instanceof DiskkitError)) throw error;
    }
    return describeVolume(this.source, this.geometry, volumeFile, used, this.records.recordCount * this.records.recordSize);
  }

  nameKey(name: string): string {
    return upcaseName(this.upcase, name);
  }

  stat(path: string): EntryInfo {
    const r = this.resolve(path);
    return this.entryInfo(r.path, r.name, r.file, r.stream);
  }

  list(path: string | EntryInfo, options: ListOptions = {}): EntryInfo[] {
    const dir = this.resolve(path);
    if (!dir.file.isDirectory || dir.stream !== '') throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, 'not a directory', { context: { path: dir.path } });
    // NTFS has no directory hard links: a directory met under a second path is a loop (an
    // index entry pointing back at an ancestor) or a cross-link in a damaged or hostile
    // image, and a caller descending again (cp -r) would never end. As FAT and Cartridge do.
    const key = this.nameKey(dir.path);
    const seenAt = this.listedDirectories.get(dir.file.record);
    if (seenAt !== undefined && seenAt !== key) {
      throw new DiskkitError(ErrorCode.CORRUPT, `directory (record ${dir.file.record}) is already listed under another path (a loop in the directory tree): not descended into`, { context: { path: dir.path, record: dir.file.record } });
    }
    this.listedDirectories.set(dir.file.record, key);
    const out: EntryInfo[] = [];
    const summary: RecordSummary = { inUse: false, isDirectory: false, fileAttributes: 0, createdMs: NaN, modifiedMs: NaN, accessedMs: NaN, size: 0 };
    this.readDirectory(dir.file, options.deleted === true, (name, record, loaded) => {
      let file: FileRecord;
      try {
        // A plain record is read in place (cp -r lists every directory first; the
        // decoder's objects per entry were most of that cost); others are decoded.
        const quick = loaded === null && !options.streams ? this.records.summary(record, summary) : null;
        if (quick !== null) {
          out.push(new NtfsEntryInfo(childPath(dir.path, name), name, record, quick, '', quick.isDirectory ? 0 : quick.size));
          return;
        }
        file = loaded ?? this.file(record);
      } catch (error) {
        if (!(error instanceof DiskkitError)) throw error;
        this.warnings.push({ code: error.code, message: `entry '${name}' skipped: ${error.message}`, context: { record } });
        return;
      }
      const info = this.entryInfo(childPath(dir.path, name), name, file, '');
      if (options.streams) info.streams = this.streamsOf(file);
      out.push(info);
    });
    return out;
  }

  walk(start: string | EntryInfo, options: WalkOptions, visitor: WalkVisitor): void {
    let dir: Resolved;
    try {
      dir = this.resolve(start);
      if (!dir.file.isDirectory) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, 'not a directory', { context: { path: dir.path } });
    } catch (error) {
      visitor.error(typeof start === 'string' ? start : start.path, 0, error);
      return;
    }
    const entry: WalkEntry = { parent: '', name: '', shortName: null, type: 'file', size: 0, mtimeMs: NaN, ctimeMs: NaN, atimeMs: NaN, attributes: [], deleted: false, dot: false };
    const summary: RecordSummary = { inUse: false, isDirectory: false, fileAttributes: 0, createdMs: NaN, modifiedMs: NaN, accessedMs: NaN, size: 0 };
    // NTFS has no directory hard links: a directory reached twice is a loop or a cross-link.
    const seen = new Set<number>();
    // An explicit stack, not recursion: a hostile image may nest directories very deep.
    // `file: null` is the orphan bucket (ORPHAN_DIR), walked last from the root with deleted entries.
    const stack: { file: FileRecord | null; path: string; depth: number }[] = [{ file: dir.file, path: dir.path, depth: 0 }];
    while (stack.length > 0) {
      const { file, path, depth } = stack.pop()!;
      if (file !== null && seen.has(file.record)) {
        visitor.error(path, depth, new DiskkitError(ErrorCode.CORRUPT, 'directory is reached twice (a loop in the directory tree)', { context: { path, record: file.record } }));
        continue;
      }
      if (file !== null) seen.add(file.record);
      const descend: { file: FileRecord | null; path: string; depth: number }[] = [];
      const entries = (each: (name: string, record: number, loaded: FileRecord | null) => void, started: () => void): void => {
        if (file === null) this.readOrphans(each, started);
        else this.readDirectory(file, options.deleted === true, each, started);
      };
      try {
        entries((name, record, loaded) => {
          // The record read in place when it is plain; the full decoder otherwise.
          let quick: RecordSummary | null = null;
          let child: FileRecord | null = loaded;
          try {
            if (child === null) quick = this.records.summary(record, summary);
            if (child === null && quick === null) child = this.file(record);
          } catch (error) {
            if (!(error instanceof DiskkitError)) throw error;
            this.warnings.push({ code: error.code, message: `entry '${name}' skipped: ${error.message}`, context: { record, path: childPath(path, name) } });
            return;
          }
          entry.parent = path;
          entry.name = name;
          if (child) {
            entry.type = child.isDirectory ? 'dir' : 'file';
            entry.size = child.isDirectory ? 0 : this.unnamedSize(child);
            entry.mtimeMs = child.modifiedMs;
            entry.ctimeMs = child.createdMs;
            entry.atimeMs = child.accessedMs;
            entry.attributes = attributeNames(child);
            entry.deleted = !child.inUse;
            if (options.streams) entry.streams = this.streamsOf(child);
          } else {
            entry.type = quick!.isDirectory ? 'dir' : 'file';
            entry.size = quick!.isDirectory ? 0 : quick!.size;
            entry.mtimeMs = quick!.modifiedMs;
            entry.ctimeMs = quick!.createdMs;
            entry.atimeMs = quick!.accessedMs;
            entry.attributes = attributeNamesOf(quick!.fileAttributes, quick!.isDirectory);
            entry.deleted = !quick!.inUse;
            // Named streams need the decoded record (a plain record decodes).
            if (options.streams) entry.streams = this.streamsOf(this.file(record));
          }
          const isDir = entry.type === 'dir';
          // A deleted directory is descended into only when deleted entries are asked for
          // (its listing is then its deleted children alone: see readDirectory).
          if (visitor.entry(entry) && options.recursive && isDir && (!entry.deleted || options.deleted === true)) {
            const sub = childPath(path, name);
            try {
              descend.push({ file: child ?? this.file(record), path: sub, depth: depth + 1 });
            } catch (error) {
              if (!(error instanceof DiskkitError)) throw error;
              visitor.error(sub, depth + 1, error);
            }
          }
        }, () => visitor.directory(path, depth));
      } catch (error) {
        visitor.error(path, depth, error);
      }
      if (file !== null && file.record === ROOT_RECORD && options.deleted === true && options.recursive && this.deletedOrphans().length > 0) {
        descend.push({ file: null, path: ORPHAN_DIR, depth: depth + 1 });
      }
      for (let i = descend.length - 1; i >= 0; i--) stack.push(descend[i]!);
    }
  }

  openFile(path: string | EntryInfo): FileDataSource {
    return this.stream(path);
  }

  /** Raw extents for plain streams only; E_UNSUPPORTED for resident, compressed, sparse or partly initialized ones (read those through openFile). */
  fileExtents(path: string | EntryInfo): Extent[] {
    return this.stream(path).extents();
  }

  readFile(path: string | EntryInfo): Buffer {
    const stream = this.stream(path);
    if (stream.size > MAX_READFILE_BYTES) {
      throw new DiskkitError(ErrorCode.LIMIT, `file of ${stream.size} bytes is too big to read into memory`, { context: { size: stream.size, limit: MAX_READFILE_BYTES } });
    }
    const out = Buffer.alloc(stream.size);
    stream.read(out, stream.size, 0);
    return out;
  }

  writeFile(): EntryInfo {
    throw this.readOnly('write files');
  }

  mkdir(): EntryInfo {
    throw this.readOnly('make directories');
  }

  remove(): void {
    throw this.readOnly('remove entries');
  }

  rename(): EntryInfo {
    throw this.readOnly('rename entries');
  }

  /** Nothing to commit: the volume is never changed. */
  commit(): void {}

  close(): void {
    this.source.close();
  }

  // ---- internals ----

  private readOnly(what: string): DiskkitError {
    return new DiskkitError(ErrorCode.READ_ONLY, `NTFS volumes are read-only in diskkit: cannot ${what}`, { context: { format: 'ntfs', image: this.source.name } });
  }

  /**
   * Record `record`, decoded. The last few are kept: `cp` and `cat` resolve an entry
   * that `list` just decoded, then ask for its extents and then its reader, and each
   * would decode the record (and its extension records) again.
   */
  private file(record: number): FileRecord {
    const cached = this.recentFiles.get(record);
    if (cached !== undefined) return cached;
    const file = loadFile(this.records, this.volumeGeometry, record);
    if (this.recentFiles.size >= RECENT_FILES) this.recentFiles.delete(this.recentFiles.keys().next().value!);
    this.recentFiles.set(record, file);
    return file;
  }

  private unnamedSize(file: FileRecord): number {
    const pieces = dataStreams(file).get('');
    return pieces ? streamSize(pieces) : 0;
  }

  private streamsOf(file: FileRecord): { name: string; size: number }[] {
    const out: { name: string; size: number }[] = [];
    for (const [name, pieces] of dataStreams(file)) if (name !== '') out.push({ name, size: streamSize(pieces) });
    return out;
  }

  private entryInfo(path: string, name: string, file: FileRecord, stream: string): NtfsEntryInfo {
    let size = 0;
    if (stream !== '' || !file.isDirectory) {
      const pieces = dataStreams(file).get(stream);
      size = pieces ? streamSize(pieces) : 0;
    }
    return new NtfsEntryInfo(path, stream === '' ? name : `${name}:${stream}`, file.record, file, stream, size);
  }

  private stream(path: string | EntryInfo): StreamSource {
    if (path instanceof NtfsEntryInfo) {
      // A listed plain file: its unnamed $DATA read in place, without decoding the record.
      const { record, stream } = path.origin;
      const data = stream === '' && !this.recentFiles.has(record) ? this.records.unnamedData(record) : null;
      if (data !== null) return openStream(this.volumeGeometry, [data]);
    }
    const r = this.resolve(path);
    if (r.file.isDirectory && r.stream === '') throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, 'is a directory', { context: { path: r.path } });
    const stream = openDataStream(this.volumeGeometry, r.file, r.stream);
    if (stream) return stream;
    // A file without an unnamed $DATA ($Secure, $Extend/$Quota...) lists as size 0 and reads as nothing.
    if (r.stream === '') return emptyStream();
    throw new DiskkitError(ErrorCode.NOT_FOUND, `no stream named '${r.stream}'`, { context: { path: r.path } });
  }

  /**
   * The entries of a directory (the names shown, each with its record number), `$I30`
   * order, then deleted ones when asked (those come with their decoded record).
   * A deleted name belongs here only when parentMatches (otherwise the directory's
   * record was reused and the name belongs to the directory that was there before:
   * deletedOrphans lists it). A deleted directory's `$I30` is not read: what it still names was
   * removed from it or has been reused since, so only its deleted children are listed.
   */
  private readDirectory(dir: FileRecord, deleted: boolean, each: (name: string, record: number, loaded: FileRecord | null) => void, started?: () => void): void {
    const entries: IndexEntry[] = [];
    if (dir.inUse) forEachIndexEntry(this.volumeGeometry, dir, (e) => {
      if (e.namespace === FileNamespace.DOS || e.name === '.' || e.name === '') return;
      if (entries.length >= MAX_DIRECTORY_ENTRIES) throw new DiskkitError(ErrorCode.LIMIT, `directory has more than ${MAX_DIRECTORY_ENTRIES} entries`, { context: { record: dir.record } });
      entries.push(e);
    });
    started?.();
    for (const e of entries) {
      if (e.record >= this.records.recordCount) {
        this.warnings.push({ code: ErrorCode.BAD_RECORD, message: `entry '${e.name}' skipped: it names MFT record ${e.record}, past the end of the MFT`, context: { record: e.record } });
        continue;
      }
      each(e.name, e.record, null);
    }
    if (!deleted) return;
    for (const record of this.deletedChildren().get(dir.record) ?? []) {
      let file: FileRecord;
      try {
        file = this.file(record);
      } catch {
        continue;
      }
      for (const n of visibleNames(file)) if (n.parentRecord === dir.record && record !== dir.record && parentMatches(dir, n)) each(n.name, record, file);
    }
  }

  /** The names of deleted records that no usable directory holds, as readDirectory gives entries (ORPHAN_DIR's listing). */
  private readOrphans(each: (name: string, record: number, loaded: FileRecord | null) => void, started: () => void): void {
    started();
    for (const { record, names } of this.deletedOrphans()) {
      let file: FileRecord;
      try {
        file = this.file(record);
      } catch {
        continue;
      }
      for (const name of names) each(name, record, file);
    }
  }

  /**
   * Deleted records with names whose parent reference points at no usable directory (a
   * record reused since, a file, a bad number), each with those names: ls -R --deleted
   * shows them under ORPHAN_DIR, as mft index does (fls: $OrphanFiles). Found once.
   */
  private deletedOrphans(): { record: number; names: string[] }[] {
    if (this.orphans) return this.orphans;
    const out: { record: number; names: string[] }[] = [];
    for (const [parentRecord, records] of this.deletedChildren()) {
      for (const record of records) {
        let file: FileRecord;
        try {
          file = this.file(record);
        } catch {
          continue;
        }
        const names: string[] = [];
        for (const n of visibleNames(file)) {
          if (n.parentRecord !== parentRecord) continue;
          let parent: FileRecord | null = null;
          try {
            if (n.parentRecord !== record && n.parentRecord < this.records.recordCount) parent = this.file(n.parentRecord);
          } catch {
            parent = null;
          }
          if (parent === null || !parent.isDirectory || !parentMatches(parent, n)) {
            if (!names.includes(n.name)) names.push(n.name);
          }
        }
        if (names.length > 0) out.push({ record, names });
      }
    }
    out.sort((a, b) => a.record - b.record);
    return (this.orphans = out);
  }

  /** Records not in use, grouped by the parent their names point at (one MFT pass, kept). */
  private deletedChildren(): Map<number, number[]> {
    if (this.deletedByParent) return this.deletedByParent;
    const map = new Map<number, number[]>();
    const summary: RecordSummary = { inUse: false, isDirectory: false, fileAttributes: 0, createdMs: NaN, modifiedMs: NaN, accessedMs: NaN, size: 0 };
    for (let n = 16; n < this.records.recordCount; n++) {
      let file: FileRecord;
      try {
        // Skip records without a FILE signature and in-use ones before decoding.
        if (this.records.status(n) === 255) continue;
        const quick = this.records.summary(n, summary);
        if (quick?.inUse) continue;
        file = this.file(n);
      } catch {
        continue;
      }
      if (file.inUse) continue;
      for (const name of visibleNames(file)) {
        const list = map.get(name.parentRecord);
        if (list) {
          if (list[list.length - 1] !== n) list.push(n);
        } else map.set(name.parentRecord, [n]);
      }
    }
    this.deletedByParent = map;
    return map;
  }

  private resolve(path: string | EntryInfo): Resolved {
    if (path instanceof NtfsEntryInfo) {
      const { record, stream } = path.origin;
      return { file: this.file(record), stream, path: path.path, name: path.name };
    }
    const text = typeof path === 'string' ? path : path.path;
    const parts = splitPath(text);
    let file = this.file(ROOT_RECORD);
    let current = '/';
    let stream = '';
    for (let i = 0; i < parts.length; i++) {
      if (!file.isDirectory) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, 'not a directory', { context: { path: current } });
      let part = parts[i]!;
      let found = this.lookup(file, part);
      if (found === null && i === parts.length - 1 && part.includes(':')) {
        const colon = part.indexOf(':');
        stream = part.slice(colon + 1);
        part = part.slice(0, colon);
        found = this.lookup(file, part);
      }
      if (found === null) throw new DiskkitError(ErrorCode.NOT_FOUND, 'no such file or directory', { context: { path: childPath(current, parts[i]!) } });
      file = this.file(found.record);
      current = childPath(current, found.name);
    }
    const name = current === '/' ? '/' : current.slice(current.lastIndexOf('/') + 1);
    if (stream !== '' && !dataStreams(file).has(stream)) {
      throw new DiskkitError(ErrorCode.NOT_FOUND, `no stream named '${stream}'`, { context: { path: `${current}:${stream}` } });
    }
    return { file, stream, path: stream === '' ? current : `${current}:${stream}`, name };
  }

  /**
   * The entry of `dir` whose name equals `name` under $UpCase, or null. An entry spelled
   * exactly so is looked for first: the usual case needs no $UpCase at all.
   */
  private lookup(dir: FileRecord, name: string): { record: number; name: string } | null {
    let found: { record: number; name: string } | null = null;
    forEachIndexEntry(this.volumeGeometry, dir, (e) => {
      if (found === null && e.name === name && e.namespace !== FileNamespace.DOS && e.name !== '.') found = { record: e.record, name: e.name };
    });
    if (found !== null) return found;
    const key = this.nameKey(name);
    forEachIndexEntry(this.volumeGeometry, dir, (e) => {
      if (found !== null || e.namespace === FileNamespace.DOS || e.name === '.') return;
      if (this.nameKey(e.name) === key) found = { record: e.record, name: e.name };
    });
    return found;
  }
}

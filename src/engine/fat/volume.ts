/**
 * A FAT12/16/32 volume behind the format-neutral Volume interface: boot sector,
 * FAT (through FatTable's cache), directories and files. This is the read side;
 * write operations are delegated to FatWriter (volume-writer.ts).
 */
import { readBytes, type BlockSource } from '../../io/block-source.js';
import { checkBound } from '../binary.js';
import { DiskkitError, ErrorCode, type DiskkitWarning } from '../errors.js';
import type { EntryInfo, Extent, FileDataSource, InfoDetail, ListOptions, Volume, VolumeCapabilities, VolumeInfo, WalkOptions, WalkVisitor, WriteFileOptions } from '../volume.js';
import { extentReader } from '../extent-reader.js';
import { joinPath, splitPath } from '../volume-path.js';
import { fatInfoDetails, type FatVolumeInfo } from './info-details.js';
import { decodeBootSector, type BootSector } from './boot-sector.js';
import { Attr, attributeNames, decodeDosDateTime } from './dir-entry.js';
import { findRecord, foldName, parseDirectory, type DirRecord, type ParsedDirectory } from './directory.js';
import { walkFatDirectories } from './directory-walk.js';
import { FatTable, type ClusterRun } from './fat-table.js';
import { writeVolumeLabel } from './label-writer.js';
import { decodeFsInfo, type FsInfo } from './fsinfo.js';
import { FatWriter, type MkdirOptions } from './volume-writer.js';
import type { DirectoryRef, FatVolumeState } from './volume-state.js';
import { ClusterAllocator, measureAllocation } from './allocator.js';
import { walkLimitExceeded } from '../limits.js';
import { storableLongName, type StorableName } from './storable-name.js';

/** fatgen103 section 6: a directory holds at most 65,536 entries. Longer chains are cut here. */
export const MAX_DIRECTORY_BYTES = 65536 * 32;
/** readFile returns one Buffer; bigger files are read through fileExtents + scanExtents. */
export const MAX_READFILE_BYTES = 1024 * 1024 * 1024;
/** How many parsed directories are kept for repeated lookups. */
const DIRECTORY_CACHE_SIZE = 8;

export type { DirectoryRef } from './volume-state.js';

export type { FatVolumeInfo } from './info-details.js';

export class FatVolume implements Volume, FatVolumeState {
  readonly format = 'fat';
  readonly capabilities: VolumeCapabilities;
  readonly warnings: DiskkitWarning[] = [];
  readonly fat: FatTable;
  private readonly directoryCache = new Map<number, ParsedDirectory>();
  private readonly deletedCache = new Map<number, ParsedDirectory>();
  /** Folded absolute path -> directory, for every directory met so far. */
  private readonly knownDirectories = new Map<string, DirectoryRef>();
  private readonly warnedDirectories = new Set<number>();
  /** Cluster -> path of the directory listed from it (see claimDirectory). */
  private readonly listedClusters = new Map<number, string>();
  private writerValue: FatWriter | null = null;
  private readonly directoryCacheCounters = { hits: 0, misses: 0 };

  private constructor(
    readonly source: BlockSource,
    readonly boot: BootSector,
    readonly writable: boolean,
  ) {
    this.fat = new FatTable(source, boot);
    this.capabilities = {
      writable,
      formatWritable: true,
      caseInsensitive: true,
      shortNames: true,
      streams: false,
      hardLinks: false,
      deletedEntries: true,
      snapshots: false,
      encryption: false,
      rawExtents: true,
    };
  }

  /** FAT folds names to upper case (directory.ts foldName); commands compare through this. */
  nameKey(name: string): string {
    return foldName(name);
  }

  /** A source name FAT cannot store as it is, made storable (storable-name.ts). */
  storableName(name: string): StorableName | null {
    return storableLongName(name);
  }

  openFile(path: string | EntryInfo): FileDataSource {
    const entry = typeof path === 'string' ? this.stat(path) : path;
    if (entry.type === 'dir') throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, `${entry.path} is a directory`, { context: { path: entry.path } });
    return extentReader(this.source, this.fileExtents(entry), entry.size);
  }

  /** Opens the FAT file system that starts at byte 0 of `source`. */
  static open(source: BlockSource, options: { writable?: boolean } = {}): FatVolume {
    if (source.size < 512) {
      throw new DiskkitError(ErrorCode.TRUNCATED, `image is ${source.size} bytes, too small for a FAT boot sector`, { context: { image: source.name } });
    }
    const first = readBytes(source, 0, 512);
    const bps = first[11]! | (first[12]! << 8);
    const sector = bps > 512 && bps <= 4096 && source.size >= bps ? readBytes(source, 0, bps) : first;
    let boot: BootSector;
    try {
      boot = decodeBootSector(sector, source.size);
    } catch (error) {
      if (error instanceof DiskkitError) error.context.image ??= source.name;
      throw error;
    }
    return new FatVolume(source, boot, Boolean(options.writable));
  }

  info(): FatVolumeInfo {
    const b = this.boot;
    const free = this.fat.countFree();
    const root = this.readDirectory({ cluster: this.rootCluster, path: '/' });
    let fsInfo: FsInfo | null = null;
    if (b.fatType === 'fat32' && b.fsInfoSector > 0 && b.fsInfoSector < b.reservedSectors) {
      fsInfo = decodeFsInfo(readBytes(this.source, b.fsInfoSector * b.bytesPerSector, 512), b.clusterCount);
    }
    const label = root.volumeLabel ?? b.volumeLabel;
    const info: FatVolumeInfo = {
      format: 'fat',
      fatType: b.fatType.toUpperCase() as FatVolumeInfo['fatType'],
      totalBytes: b.clusterCount * b.bytesPerCluster,
      freeBytes: free * b.bytesPerCluster,
      usedBytes: (b.clusterCount - free) * b.bytesPerCluster,
      volumeBytes: b.totalSectors * b.bytesPerSector,
      bytesPerSector: b.bytesPerSector,
      sectorsPerCluster: b.sectorsPerCluster,
      bytesPerCluster: b.bytesPerCluster,
      reservedSectors: b.reservedSectors,
      numberOfFats: b.numberOfFats,
      sectorsPerFat: b.sectorsPerFat,
      totalSectors: b.totalSectors,
      hiddenSectors: b.hiddenSectors,
      media: b.media,
      rootDirectory: b.fatType === 'fat32' ? { cluster: b.rootCluster } : { sector: b.rootDirSector, entries: b.rootEntryCount },
      firstDataSector: b.firstDataSector,
      clusters: { total: b.clusterCount, free, used: b.clusterCount - free },
      label: label && label !== 'NO NAME' ? label : null,
      bootSectorLabel: b.volumeLabel,
      volumeId: b.volumeId === null ? null : formatVolumeId(b.volumeId),
      oemName: b.oemName,
      fsInfo: fsInfo ? { freeCount: fsInfo.freeCount, nextFree: fsInfo.nextFree } : null,
      details: [],
    };
    info.details = fatInfoDetails(info);
    return info;
  }

  /** Cluster of the root directory: FAT32's root cluster, or 0 for the fixed region. */
  get rootCluster(): number {
    return this.boot.fatType === 'fat32' ? this.boot.rootCluster : 0;
  }

  /** The raw bytes of a directory (bounded by MAX_DIRECTORY_BYTES). */
  readDirectoryBytes(dir: DirectoryRef): Uint8Array {
    const pending = this.writerValue?.pendingBytes(dir.cluster);
    if (pending) return pending;
    const b = this.boot;
    if (dir.cluster === 0) {
      return readBytes(this.source, b.rootDirSector * b.bytesPerSector, b.rootDirSectors * b.bytesPerSector);
    }
    const limit = Math.ceil(MAX_DIRECTORY_BYTES / b.bytesPerCluster);
    const runs = this.fat.runs(dir.cluster, limit + 1, `directory ${dir.path}`);
    let clusters = runs.reduce((n, r) => n + r.count, 0);
    if (clusters > limit) {
      this.warnOnce(dir.cluster, { code: 'W_DIRECTORY_TOO_LONG', message: `directory is longer than 65536 entries; reading the first ${limit} clusters`, context: { path: dir.path } });
      clusters = limit;
    }
    const buf = new Uint8Array(clusters * b.bytesPerCluster);
    let at = 0;
    for (const extent of this.fat.runsToExtents(runs, buf.length)) {
      this.source.readAt(buf, at, extent.length, extent.position);
      at += extent.length;
    }
    return buf;
  }

  /**
   * Records that `dir` is being listed, and refuses it when one of its clusters
   * belongs to a directory already listed under another path: a cycle through an
   * ancestor, or two entries sharing clusters. Each such directory is reported once
   * (by the caller) and not descended into, so a walk reads every cluster at most
   * once whatever the image claims.
   */
  claimDirectory(dir: DirectoryRef): void {
    if (dir.cluster === 0) return;
    const limit = Math.ceil(MAX_DIRECTORY_BYTES / this.boot.bytesPerCluster);
    const runs = this.fat.runs(dir.cluster, limit, `directory ${dir.path}`);
    for (const run of runs) {
      for (let c = run.start; c < run.start + run.count; c++) {
        const owner = this.listedClusters.get(c);
        if (owner !== undefined && owner !== dir.path) {
          throw new DiskkitError(ErrorCode.CHAIN_LOOP, `directory shares cluster ${c} with ${owner}, which was listed already; not descended into`, { context: { path: dir.path, cluster: c } });
        }
      }
    }
    for (const run of runs) for (let c = run.start; c < run.start + run.count; c++) this.listedClusters.set(c, dir.path);
  }

  /** Parses a directory, with a small cache so that path lookups do not re-read parents. */
  readDirectory(dir: DirectoryRef, options: { deleted?: boolean } = {}): ParsedDirectory {
    const cache = options.deleted ? this.deletedCache : this.directoryCache;
    const hit = cache.get(dir.cluster);
    if (hit) {
      this.directoryCacheCounters.hits++;
      return hit;
    }
    this.directoryCacheCounters.misses++;
    const parsed = parseDirectory(this.readDirectoryBytes(dir), this.boot.fatType, { deleted: options.deleted, path: dir.path });
    if (parsed.warnings.length > 0 && !this.warnedDirectories.has(dir.cluster)) {
      this.warnedDirectories.add(dir.cluster);
      this.warnings.push(...parsed.warnings);
    }
    if (cache.size >= DIRECTORY_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(dir.cluster, parsed);
    return parsed;
  }

  /** Resolves an absolute path to its record (null for the root). */
  resolve(path: string): { record: DirRecord | null; path: string } {
    const parts = splitPath(path);
    if (parts.length === 0) return { record: null, path: '/' };
    const parentPath = '/' + parts.slice(0, -1).join('/');
    const parent = this.directoryAt(parentPath);
    const name = parts[parts.length - 1]!;
    // A directory the write side holds answers from its name index (a tree copy asks about each new directory).
    const loaded = this.writerValue?.loadedDirectory(parent.cluster);
    const record = loaded ? loaded.find(name) : findRecord(this.readDirectory(parent).records, name);
    if (!record) throw new DiskkitError(ErrorCode.NOT_FOUND, 'no such file or directory', { context: { path: joinPath(parentPath, name) } });
    return { record, path: joinPath(parent.path, record.name) };
  }

  /** The directory at `path`; throws E_NOT_FOUND / E_NOT_DIR. */
  directoryAt(path: string): DirectoryRef {
    const parts = splitPath(path);
    const key = '/' + parts.map(foldName).join('/');
    const known = this.knownDirectories.get(key);
    if (known) return known;
    let dir: DirectoryRef = { cluster: this.rootCluster, path: '/', parent: null };
    for (let i = 0; i < parts.length; i++) {
      const record = findRecord(this.readDirectory(dir).records, parts[i]!);
      const here = joinPath(dir.path, record?.name ?? parts[i]!);
      if (!record) throw new DiskkitError(ErrorCode.NOT_FOUND, 'no such file or directory', { context: { path: here } });
      if (!record.isDirectory) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, 'not a directory', { context: { path: here } });
      dir = this.childDirectory(record, here, dir);
    }
    this.remember(key, dir);
    return dir;
  }

  stat(path: string): EntryInfo {
    const { record, path: full } = this.resolve(path);
    if (!record) return this.rootInfo();
    return this.entryInfo(record, full);
  }

  /** The directory a path or a listed EntryInfo names (an EntryInfo from a listing needs no path lookup). */
  private directoryOf(path: string | EntryInfo): DirectoryRef {
    const known = path instanceof FatEntryInfo ? path.origin : undefined;
    if (known) {
      if (!known.record.isDirectory) throw new DiskkitError(ErrorCode.NOT_A_DIRECTORY, 'not a directory', { context: { path: (path as EntryInfo).path } });
      return this.childDirectory(known.record, (path as EntryInfo).path, known.dir);
    }
    return this.directoryAt(typeof path === 'string' ? path : path.path);
  }

  /** See Volume.walk and directory-walk.ts. A start that cannot be resolved is reported to `visitor.error`. */
  walk(start: string | EntryInfo, options: WalkOptions, visitor: WalkVisitor): void {
    let dir: DirectoryRef;
    try {
      dir = this.directoryOf(start);
    } catch (error) {
      visitor.error(typeof start === 'string' ? start : start.path, 0, error);
      return;
    }
    walkFatDirectories(this, dir, options, visitor);
  }

  list(path: string | EntryInfo, options: ListOptions & { dotEntries?: boolean } = {}): EntryInfo[] {
    const dir = this.directoryOf(path);
    this.claimDirectory(dir);
    const parsed = this.readDirectory(dir, { deleted: options.deleted });
    const out: EntryInfo[] = [];
    for (const record of parsed.records) {
      if (record.isDot && !options.dotEntries) continue;
      const childPath = record.isDot ? joinPath(dir.path, record.name) : joinPath(dir.path, record.name);
      out.push(new FatEntryInfo(record, childPath, dir));
      if (record.isDirectory && !record.isDot && !record.deleted && !record.name.includes('/')) {
        const key = '/' + splitPath(childPath).map(foldName).join('/');
        if (!this.knownDirectories.has(key)) {
          try {
            this.remember(key, this.childDirectory(record, childPath, dir));
          } catch {
            // a bad start cluster is reported when that directory itself is listed
          }
        }
      }
    }
    return out;
  }

  fileExtents(path: string | EntryInfo): Extent[] {
    const known = path instanceof FatEntryInfo ? path.origin : undefined;
    const { record, path: full } = known ? { record: known.record, path: (path as EntryInfo).path } : this.resolve(typeof path === 'string' ? path : path.path);
    if (!record || record.isDirectory) throw new DiskkitError(ErrorCode.IS_A_DIRECTORY, 'is a directory', { context: { path: full } });
    return this.recordExtents(record, full);
  }

  /**
   * A deleted file's bytes, as The Sleuth Kit recovers them: deleting freed its chain, so
   * its clusters are taken to be the `needed` consecutive ones from its start cluster.
   * Only while every one of them is still free: a cluster in use again holds another
   * file's data now, and that is refused rather than returned as this file's.
   */
  private deletedExtents(start: number, needed: number, size: number, path: string): Extent[] {
    if (start + needed - 1 > this.fat.maxCluster) {
      throw new DiskkitError(ErrorCode.CHAIN_RANGE, `deleted file of ${size} bytes would run from cluster ${start} past the last cluster, ${this.fat.maxCluster}: not recoverable`, { context: { path, cluster: start } });
    }
    for (let cluster = start; cluster < start + needed; cluster++) {
      if (this.fat.get(cluster) !== 0) {
        throw new DiskkitError(ErrorCode.CORRUPT, `deleted file: cluster ${cluster} is in use again (another file's data now): not recoverable`, { context: { path, cluster } });
      }
    }
    return this.fat.runsToExtents([{ start, count: needed }], size);
  }

  /** The byte extents of a file record, validated against its chain. */
  recordExtents(record: DirRecord, path: string): Extent[] {
    // File data this command wrote may still wait in memory (data-write-batch.ts): the extents must read it.
    this.writerValue?.flushData();
    const size = record.entry.fileSize;
    if (size === 0) return [];
    const start = record.entry.startCluster;
    const clusterBytes = this.boot.bytesPerCluster;
    const needed = Math.ceil(size / clusterBytes);
    if (start < 2 || start > this.fat.maxCluster) {
      throw new DiskkitError(ErrorCode.CHAIN_RANGE, `file of ${size} bytes starts at cluster ${start}, outside 2..${this.fat.maxCluster}`, { context: { path, cluster: start } });
    }
    if (needed > this.boot.clusterCount) {
      throw new DiskkitError(ErrorCode.CORRUPT, `file claims ${size} bytes, more than the volume holds`, { context: { path, size } });
    }
    if (record.deleted) return this.deletedExtents(start, needed, size, path);
    let runs;
    try {
      // The whole chain is walked (loops and bad links are errors even past the size), but only `needed` clusters are kept.
      let kept = 0;
      runs = [] as { start: number; count: number }[];
      let last: { start: number; count: number } | null = null;
      let total = 0;
      this.fat.walk(start, (cluster) => {
        total++;
        if (kept >= needed) return;
        kept++;
        if (last && cluster === last.start + last.count) last.count++;
        else runs!.push((last = { start: cluster, count: 1 }));
      }, `chain of ${path}`);
      if (total < needed) {
        throw new DiskkitError(ErrorCode.CORRUPT, `file claims ${size} bytes but its cluster chain holds only ${total * clusterBytes}`, {
          context: { path, size, clusters: total },
        });
      }
    } catch (error) {
      if (error instanceof DiskkitError) error.context.path ??= path;
      throw error;
    }
    return this.fat.runsToExtents(runs, size);
  }

  readFile(path: string | EntryInfo): Buffer {
    const extents = this.fileExtents(path);
    const size = extents.reduce((n, e) => n + e.length, 0);
    checkBound(size, MAX_READFILE_BYTES, 'file size for readFile');
    const buf = Buffer.allocUnsafe(size);
    let at = 0;
    for (const e of extents) {
      this.source.readAt(buf, at, e.length, e.position);
      at += e.length;
    }
    return buf;
  }

  /** Hit/miss counts of the FAT window cache and the parsed-directory cache (bench, --stats). */
  cacheStats(): Record<string, { hits: number; misses: number }> {
    return { fat: { ...this.fat.cacheCounters }, directory: { ...this.directoryCacheCounters } };
  }

  /**
   * Times `count` single-cluster allocations at the volume's current fill level, in
   * memory only: the free-cluster bitmap is built from the FAT, clusters are taken and
   * given back, and nothing is written — safe on a read-only volume.
   */
  measureAllocation(count: number): { allocations: number; microsPerAllocation: number; bitmapBuildMs: number; fillLevelPct: number } {
    const t0 = performance.now();
    const allocator = ClusterAllocator.fromFat(this.fat);
    const bitmapBuildMs = performance.now() - t0;
    const fillLevelPct = Math.round((1 - allocator.freeCount / this.boot.clusterCount) * 1000) / 10;
    return { ...measureAllocation(allocator, count), bitmapBuildMs, fillLevelPct };
  }

  /** The write side, created on the first write (see volume-writer.ts). */
  get writer(): FatWriter {
    return (this.writerValue ??= new FatWriter(this));
  }

  writeFile(path: string, data: Uint8Array | FileDataSource, options?: WriteFileOptions): EntryInfo {
    return this.writer.writeFile(path, data, options);
  }
  mkdir(path: string, options?: MkdirOptions): EntryInfo {
    return this.writer.mkdir(path, options);
  }
  remove(path: string, options?: { recursive?: boolean }): void {
    this.writer.remove(path, options);
  }
  rename(from: string, to: string): EntryInfo {
    return this.writer.rename(from, to);
  }

  /** See Volume.setAttributes: names are 'readonly', 'hidden', 'system', 'archive'. */
  setAttributes(path: string, change: { set: readonly string[]; clear: readonly string[] }): EntryInfo {
    return this.writer.setAttributes(path, { set: attributeBits(change.set), clear: attributeBits(change.clear) });
  }
  /** See Volume.setLabel (label-writer.ts). */
  setLabel(label: string | null, when = new Date()): string | null {
    return writeVolumeLabel(this, label, when);
  }

  /**
   * The whole cluster chain of an entry in chain order, as mshowfat shows it (past the
   * file size too); [] for an empty file and the FAT12/16 fixed root. Loops and bad
   * links throw, like every chain walk.
   */
  clusterChain(path: string | EntryInfo): ClusterRun[] {
    const known = path instanceof FatEntryInfo ? path.origin : undefined;
    const { record, path: full } = known ? { record: known.record, path: (path as EntryInfo).path } : this.resolve(typeof path === 'string' ? path : path.path);
    const start = record ? record.entry.startCluster : this.rootCluster;
    if (start === 0) return [];
    try {
      return this.fat.runs(start, Infinity, `chain of ${full}`);
    } catch (error) {
      if (error instanceof DiskkitError) error.context.path ??= full;
      throw error;
    }
  }

  /** Clusters an entry's chain holds and their bytes (du). */
  usage(path: string | EntryInfo): { clusters: number; bytes: number } {
    const clusters = this.clusterChain(path).reduce((n, r) => n + r.count, 0);
    return { clusters, bytes: clusters * this.boot.bytesPerCluster };
  }

  /** Writes pending directory slots, FAT copies and FSInfo, and marks the volume clean. */
  commit(): void {
    if (this.writerValue) {
      if (this.writerValue.hasChanges) this.writerValue.flush();
    } else this.fat.flush();
  }

  /** Closes the image without writing: what was not committed is dropped. */
  close(): void {
    this.source.close();
  }

  /** Drops the parsed copy of a directory the write side changed. */
  forgetDirectory(cluster: number): void {
    this.directoryCache.delete(cluster);
    this.deletedCache.delete(cluster);
    // A write may have given clusters to another directory: listings start afresh.
    if (this.listedClusters.size > 0) this.listedClusters.clear();
  }

  /** Forgets every path -> directory mapping (after a directory was moved or removed). */
  forgetPaths(): void {
    this.knownDirectories.clear();
    this.listedClusters.clear();
  }

  /** Records a directory the write side created, so later lookups need no parse. */
  rememberDirectory(path: string, dir: DirectoryRef): void {
    this.remember('/' + splitPath(path).map(foldName).join('/'), dir);
  }

  /** The directory a record points at (validated like a lookup). */
  childRef(record: DirRecord, path: string, parent: DirectoryRef): DirectoryRef {
    return this.childDirectory(record, path, parent);
  }

  /** The EntryInfo of a record at `path`. */
  entryInfo(record: DirRecord, path: string): EntryInfo {
    return new FatEntryInfo(record, path, null);
  }

  private rootInfo(): EntryInfo {
    return { path: '/', name: '/', shortName: null, type: 'dir', size: 0, mtime: null, ctime: null, atime: null, attributes: ['dir'] };
  }

  /** The directory a record points at; ".." with cluster 0 means the root (fatgen103 section 6.2). */
  private childDirectory(record: DirRecord, path: string, parent: DirectoryRef): DirectoryRef {
    return this.childRefAt(record.entry.startCluster, path, parent);
  }

  /** The directory starting at `cluster`, reached from `parent`: range-checked, and refused when it is one of its own ancestors. */
  childRefAt(cluster: number, path: string, parent: DirectoryRef): DirectoryRef {
    if (cluster < 2 || cluster > this.fat.maxCluster) {
      throw new DiskkitError(ErrorCode.CHAIN_RANGE, `directory starts at cluster ${cluster}, outside 2..${this.fat.maxCluster}`, { context: { path, cluster } });
    }
    // A subdirectory that is one of its own ancestors would make every tree walk endless.
    let depth = 1;
    for (let up: DirectoryRef | null | undefined = parent; up; up = up.parent) {
      if (up.cluster === cluster) {
        throw new DiskkitError(ErrorCode.CHAIN_LOOP, `directory points back at its ancestor ${up.path} (cluster ${cluster})`, { context: { path, cluster } });
      }
      if (up.parent) depth++;
    }
    const tooDeep = walkLimitExceeded(path, depth);
    if (tooDeep) throw new DiskkitError(ErrorCode.LIMIT, tooDeep, { context: { path: path.length > 200 ? `${path.slice(0, 100)}...${path.slice(-100)}` : path } });
    return { cluster, path, parent };
  }

  private remember(key: string, dir: DirectoryRef): void {
    // Bounded like the rest: a million directories would cost tens of MiB, so start over past that.
    if (this.knownDirectories.size >= 1_000_000) this.knownDirectories.clear();
    this.knownDirectories.set(key, dir);
  }

  private warnOnce(cluster: number, warning: DiskkitWarning): void {
    if (this.warnedDirectories.has(-cluster)) return;
    this.warnedDirectories.add(-cluster);
    this.warnings.push(warning);
  }
}

/**
 * An EntryInfo backed by its directory record. Timestamps are decoded on first use:
 * a recursive listing of a million entries must not build three Dates per entry.
 * It remembers where it came from, so list/fileExtents given one need no path lookup
 * (names holding '/' stay reachable that way).
 */
class FatEntryInfo implements EntryInfo {
  readonly name: string;
  readonly shortName: string;
  readonly type: 'file' | 'dir';
  readonly size: number;
  readonly attributes: string[];
  deleted?: boolean;
  #mtime: Date | null | undefined;
  #ctime: Date | null | undefined;
  #atime: Date | null | undefined;
  readonly #record: DirRecord;
  readonly #dir: DirectoryRef | null;

  constructor(
    record: DirRecord,
    readonly path: string,
    dir: DirectoryRef | null,
  ) {
    this.#record = record;
    this.#dir = dir;
    this.name = record.name;
    this.shortName = record.shortName;
    this.type = record.isDirectory ? 'dir' : 'file';
    this.size = record.isDirectory ? 0 : record.entry.fileSize;
    this.attributes = attributeNames(record.entry.attributes);
    if (record.deleted) this.deleted = true;
  }

  /** The record and the directory holding it, when the entry came from a listing. */
  get origin(): { record: DirRecord; dir: DirectoryRef } | undefined {
    return this.#dir ? { record: this.#record, dir: this.#dir } : undefined;
  }

  get mtime(): Date | null {
    if (this.#mtime === undefined) this.#mtime = decodeDosDateTime(this.#record.entry.writeDate, this.#record.entry.writeTime);
    return this.#mtime;
  }

  get ctime(): Date | null {
    const e = this.#record.entry;
    if (this.#ctime === undefined) this.#ctime = decodeDosDateTime(e.createDate, e.createTime, e.createTimeTenth);
    return this.#ctime;
  }

  get atime(): Date | null {
    if (this.#atime === undefined) this.#atime = decodeDosDateTime(this.#record.entry.accessDate, 0);
    return this.#atime;
  }

  /** Getters are not own properties: spell the fields out for JSON.stringify and spreads. */
  toJSON(): EntryInfo {
    const o: EntryInfo = { path: this.path, name: this.name, shortName: this.shortName, type: this.type, size: this.size, mtime: this.mtime, ctime: this.ctime, atime: this.atime, attributes: this.attributes };
    if (this.deleted) o.deleted = true;
    return o;
  }
}

export { joinPath, splitPath };

const ATTRIBUTE_BITS: Record<string, number> = { readonly: Attr.READ_ONLY, hidden: Attr.HIDDEN, system: Attr.SYSTEM, archive: Attr.ARCHIVE };

function attributeBits(names: readonly string[]): number {
  let bits = 0;
  for (const name of names) {
    const bit = ATTRIBUTE_BITS[name];
    if (bit === undefined) throw new DiskkitError(ErrorCode.USAGE, `attribute '${name}' cannot be changed (readonly, hidden, system, archive can)`);
    bits |= bit;
  }
  return bits;
}

function formatVolumeId(id: number): string {
  const hex = id.toString(16).toUpperCase().padStart(8, '0');
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}

export { Attr };

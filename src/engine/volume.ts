/**
 * The format-neutral volume interface. Commands talk only to this; FAT is the first
 * format behind it, NTFS (read) and Cartridge come next. Paths are absolute inside
 * the volume, '/'-separated, root is '/'.
 */
import type { DiskkitWarning } from './errors.js';
import type { HostTreeReader } from '../io/host-tree-reader.js';
import type { BlockSource } from '../io/block-source.js';

export type EntryType = 'file' | 'dir';

export interface EntryInfo {
  /** Absolute path inside the volume ('/' for the root). */
  path: string;
  /** The name as the user sees it (long name where there is one). */
  name: string;
  /** The on-disk short name where the format has one (FAT 8.3), else null. */
  shortName: string | null;
  type: EntryType;
  /** Size in bytes (0 for directories). */
  size: number;
  mtime: Date | null;
  ctime: Date | null;
  atime: Date | null;
  /** Format attribute names, e.g. 'readonly', 'hidden', 'system', 'archive', 'dir', 'volume'. */
  attributes: string[];
  /** True for entries marked deleted (only listed when asked). */
  deleted?: boolean;
  /** Named data streams of the entry (NTFS alternate data streams), when listed with `streams`. */
  streams?: { name: string; size: number }[];
  /**
   * The format's own bookkeeping, not user data (NTFS's metafiles in the root: $MFT,
   * $LogFile, $Bitmap, ... and the $Extend directory). Listed like any entry; a recursive
   * copy leaves it out, as tsk_recover does, and naming it copies it.
   */
  metadata?: boolean;
}

/** A byte range of the underlying source that holds part of a file, in file order. */
export interface Extent {
  position: number;
  length: number;
}

/** One line of `info`'s human output: the format decides what and in which order. */
export interface InfoDetail {
  label: string;
  value: string;
}

/**
 * A summary common to all formats (the typed core), plus the format's own fields for
 * `--json` (FAT keeps every field it always printed), plus `details`: an ordered list
 * of human-readable lines that `info` prints without knowing the format. `details` is
 * for people only and is left out of `--json`.
 */
export interface VolumeInfo {
  format: string;
  totalBytes: number;
  freeBytes: number;
  usedBytes: number;
  label: string | null;
  details: InfoDetail[];
  [key: string]: unknown;
}

/**
 * What a volume can do, so commands ask instead of assuming FAT. Write commands check
 * `writable`; name comparisons go through Volume.nameKey, never toUpperCase.
 */
export interface VolumeCapabilities {
  /** Write operations work on this volume as opened (format supports writing and the image was opened writable). */
  writable: boolean;
  /** The format itself can be written by diskkit (false for NTFS): write commands fail with E_READ_ONLY. */
  formatWritable: boolean;
  /** Names that differ only in case are the same entry. */
  caseInsensitive: boolean;
  /** Entries carry an on-disk short name (FAT 8.3). */
  shortNames: boolean;
  /** Named data streams (NTFS alternate data streams), addressed as PATH:STREAM. */
  streams: boolean;
  /** One file can be listed under several names. */
  hardLinks: boolean;
  /** Entries marked deleted can be listed (ls --deleted). */
  deletedEntries: boolean;
  snapshots: boolean;
  encryption: boolean;
  /** File bytes are stored as they are, so fileExtents is offered (the fast path for cat, cp out, bench). */
  rawExtents: boolean;
  /** Files are stored compressed, and WriteFileOptions.compression picks the codec (Cartridge). */
  compression?: boolean;
}

export interface ListOptions {
  /** Also return entries marked deleted. */
  deleted?: boolean;
  /** Fill EntryInfo.streams (formats with capabilities.streams; others ignore it). */
  streams?: boolean;
}

/**
 * One entry as Volume.walk reports it. The object is reused from one callback to the
 * next (a walk of a million entries must not build a million objects): read its
 * fields during the callback, copy what you keep.
 */
export interface WalkEntry {
  /** Absolute path of the directory holding the entry; the entry's path is this joined with `name`. */
  parent: string;
  name: string;
  shortName: string | null;
  type: EntryType;
  size: number;
  /** Modification time in milliseconds since the epoch, NaN when the entry has none. */
  mtimeMs: number;
  /** Creation and last-access times (EntryInfo.ctime, atime) in the same unit, NaN when none. */
  ctimeMs: number;
  atimeMs: number;
  /** Shared, frozen attribute-name list (see EntryInfo.attributes): do not modify. */
  attributes: string[];
  deleted: boolean;
  /** True for the "." and ".." entries (only reported with `dotEntries`). */
  dot: boolean;
  /** Named data streams, when walked with `streams` on a format that has them. */
  streams?: { name: string; size: number }[];
}

export interface WalkOptions extends ListOptions {
  /** Also report the "." and ".." entries. */
  dotEntries?: boolean;
  /** Descend into the subdirectories the visitor asks for. */
  recursive?: boolean;
}

/**
 * What a walk calls. Order, as `ls -R` prints it: a directory, then all its entries,
 * then each subdirectory the visitor asked for, depth first, in entry order.
 */
export interface WalkVisitor {
  /** A directory was read; its entries follow. `depth` is 0 for the start directory. */
  directory(path: string, depth: number): void;
  /**
   * One entry. Return true to descend into it (recursive walks, directories only;
   * dot entries are never descended into, nor deleted ones except by a volume that
   * can list a deleted directory's deleted children when deleted entries are asked
   * for: NTFS, whose freed records still name their parent).
   */
  entry(entry: WalkEntry): boolean;
  /** A directory could not be read (bad chain, loop); the walk goes on with the next one. */
  error(path: string, depth: number, error: unknown): void;
}

export interface WriteFileOptions {
  mtime?: Date;
  atime?: Date;
  ctime?: Date;
  /** Keep an existing file instead of replacing it. */
  noClobber?: boolean;
  /** Called with the number of bytes written so far, for progress bars. */
  onProgress?: (bytes: number) => void;
  /** The codec for this file's data ('lz4', 'zstd', 'none') on formats with capabilities.compression; others ignore it. */
  compression?: string;
}

export interface HostImportOptions {
  /** The mtime (ms) an entry gets from its host mtime (clamped for reproducible images). */
  mtimeOf(mtimeMs: number): number;
  /** The codec for the files ('lz4', 'zstd', 'none') on formats with capabilities.compression. */
  compression?: string;
  /** Called for each directory and file written, with its image path and host path. */
  onEntry?(path: string, type: 'file' | 'dir', size: number, from: string): void;
  /** The reader of `hostDir` the caller already started (so that it worked while the image opened); the caller closes it. */
  reader?: HostTreeReader;
}

export interface HostImportResult {
  files: number;
  directories: number;
  bytes: number;
  /** Not copied: symbolic links (`link`) and other non-regular files (`other`). */
  skipped: { path: string; reason: string; kind?: 'link' | 'other' }[];
  errors: { path: string; code: string; message: string }[];
}

export interface Volume {
  readonly format: string;
  readonly source: BlockSource;
  readonly capabilities: VolumeCapabilities;
  /** Recoverable problems met so far (broken long names, stale hints...). */
  readonly warnings: DiskkitWarning[];
  /** The partition of a partitioned disk image the volume lives in (null for a whole image). */
  partition?: { index: number; start: number; size: number; type: string } | null;

  info(): VolumeInfo;
  stat(path: string): EntryInfo;
  /**
   * Lists a directory. Given an EntryInfo this volume returned (rather than a path),
   * no path lookup happens: that is how names holding '/' stay reachable.
   */
  list(path: string | EntryInfo, options?: ListOptions): EntryInfo[];
  /**
   * Optional fast listing: reports the entries of a directory (and, recursively, of
   * the subdirectories the visitor picks) without building an EntryInfo per entry.
   * Reports the same entries, names and warnings as list. Commands use it when present.
   */
  walk?(start: string | EntryInfo, options: WalkOptions, visitor: WalkVisitor): void;
  /**
   * A file's bytes, through a reader any format can offer (compressed, encrypted,
   * sparse...). Accepts an EntryInfo like list. The reader fills exactly the bytes
   * asked for and throws DiskkitError on damage; read modes drive it chunk by chunk.
   */
  openFile(path: string | EntryInfo): FileDataSource;
  /**
   * Optional fast path, only where `capabilities.rawExtents`: the byte ranges of the
   * source that hold the file's data, in order, adding up to the file size. A format
   * that stores some files raw and others not (NTFS: compressed, sparse, resident)
   * throws E_UNSUPPORTED for the others; rawExtentsOf turns that into "use openFile".
   */
  fileExtents?(path: string | EntryInfo): Extent[];
  /** The whole file in memory (small files; bounded by the format's limits). */
  readFile(path: string | EntryInfo): Buffer;
  /**
   * The key under which two names are the same entry in this format (FAT: its upper
   * case; NTFS: $UpCase; case-sensitive formats: the name itself). Commands compare
   * names only through this.
   */
  nameKey(name: string): string;
  /**
   * Optional: for a name taken from a copy's source that this format cannot store as it
   * is (FAT: `notes.`, `a?b`), the name it would store instead and why; null when the
   * name needs no change or has no storable form (writing it then fails with E_BAD_NAME).
   * Copies use it; names the user typed are refused instead (storable-name.ts says why).
   */
  storableName?(name: string): { name: string; reason: string } | null;

  /**
   * Optional fast path of `cp -r HOST_DIR IMAGE:/DEST`: copies a whole host tree in bulk
   * (Cartridge: into an empty image, the catalog built bottom-up while a second thread
   * reads the host files). Returns null, having written nothing, when it cannot (the
   * image is not empty, DEST is not a directory it can make...): the caller then copies
   * entry by entry. Host problems are returned per entry, like the entry-by-entry copy's.
   */
  importHostTree?(hostDir: string, dest: string, options: HostImportOptions): HostImportResult | null;

  /** Write operations; a read-only volume throws E_READ_ONLY (format) or E_UNSUPPORTED. */
  writeFile(path: string, data: Uint8Array | FileDataSource, options?: WriteFileOptions): EntryInfo;
  mkdir(path: string, options?: { parents?: boolean; mtime?: Date }): EntryInfo;
  remove(path: string, options?: { recursive?: boolean }): void;
  rename(from: string, to: string): EntryInfo;

  /** Sets and clears attributes ('readonly', 'hidden', 'system', 'archive'), when the format has them (attrib). */
  setAttributes?(path: string, change: { set: readonly string[]; clear: readonly string[] }): EntryInfo;
  /** Sets the volume label, or removes it with null; returns the label as stored (label). */
  setLabel?(label: string | null): string | null;
  /** The clusters of an entry's chain as runs, in chain order, when the format has clusters (chain). */
  clusterChain?(path: string | EntryInfo): { start: number; count: number }[];
  /** Clusters and bytes allocated to an entry itself (not its children), when the format has clusters (du). */
  usage?(path: string | EntryInfo): { clusters: number; bytes: number };

  /** Cache hit/miss counters, when the format keeps caches (bench, --stats). */
  cacheStats?(): Record<string, { hits: number; misses: number }>;
  /** Times `count` allocations at the current fill level without writing anything, when the format can allocate. */
  measureAllocation?(count: number): { allocations: number; microsPerAllocation: number; bitmapBuildMs: number; fillLevelPct: number };

  /** Makes every change so far durable in the image and marks the volume clean. Write commands call it once at the end. */
  commit(): void;
  /** Releases the image. Never writes: changes not committed are dropped (or rolled back). */
  close(): void;
}

/**
 * File data that is too big to hold in memory: its size and a reader of any range.
 * Used both ways: Volume.openFile returns one, Volume.writeFile accepts one, so a copy
 * between two formats is openFile on one and writeFile on the other.
 */
export interface FileDataSource {
  size: number;
  /** Fills `buf[0..length)` with the bytes at `position` of the file (a short read throws). */
  read(buf: Uint8Array, length: number, position: number): void;
  /**
   * The source byte ranges holding the file when its bytes are stored as they are,
   * else null (compressed, sparse, resident...). Optional: lets a caller that opened
   * the reader anyway skip a second lookup (and the E_UNSUPPORTED of fileExtents).
   */
  rawExtents?(): Extent[] | null;
  /**
   * Optional: the first offset at or after `position` that may hold non-zero bytes
   * (`size` when none do), so a writer skips a sparse file's holes without reading
   * them. A source that cannot tell returns `position` (or leaves this out).
   */
  nextData?(position: number): number;
  /**
   * Optional zero-copy read: the bytes [position, position + length) as a view of the
   * reader's own buffer (verified, decrypted, decompressed), or null when they do not
   * lie in one such buffer (then read() them). The view is valid only until the next
   * call on this reader, and its bytes must not be written: a bulk reader (cat, cp out)
   * hands it to write(2) instead of copying it into a buffer of its own first.
   */
  view?(length: number, position: number): Uint8Array | null;
  /** With view: the span its buffers hold (a Cartridge extent), so a bulk reader asks for views of that size at multiples of it. */
  viewSpan?: number;
  /**
   * Optional: writes the whole file into `fd`, an empty regular file (`output` names it
   * in errors), each part verified before it is written, and leaves it `size` bytes
   * long; false, having written nothing, when the reader has no faster way than
   * view()/read() for this file (then the caller copies it through them). A format whose
   * decoding runs on several threads lets each thread write what it decoded.
   */
  writeWholeTo?(fd: number, output: string, options?: { onProgress?: (done: number) => void; signal?: AbortSignal }): boolean;
}

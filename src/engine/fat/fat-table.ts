/**
 * The File Allocation Table (fatgen103 section 4) seen through a cache of whole FAT
 * sectors, and the cluster-chain walks built on it.
 *
 * The cache holds fixed-size windows of the active FAT. A FAT up to
 * WHOLE_FAT_LIMIT bytes is one window read with a single call (every FAT12 and FAT16
 * table, and FAT32 tables up to 64 Mi clusters); larger ones are held in
 * WINDOW_BYTES windows, at most MAX_WINDOWS of them, so memory stays bounded.
 * Writes mark sectors dirty; `flush` writes each dirty sector to every FAT copy
 * (or only to the active copy when FAT32 mirroring is off, fatgen103 BPB_ExtFlags).
 */
import type { BlockSource } from '../../io/block-source.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import type { Extent } from '../volume.js';
import type { BootSector, FatType } from './boot-sector.js';
import { badClusterValue, classifyFatValue, endOfChainValue, readFatValue, writeFatValue, type FatEntry } from './fat-entry.js';

/** A FAT this small is read whole, in one call. */
export const WHOLE_FAT_LIMIT = 256 * 1024 * 1024;
const WINDOW_BYTES = 4 * 1024 * 1024;
const MAX_WINDOWS = 16;

/** A run of contiguous clusters: `start`, `start+1`, ... `start+count-1`. */
export interface ClusterRun {
  start: number;
  count: number;
}

interface Window {
  /** Byte offset of the window within the FAT. */
  offset: number;
  bytes: Uint8Array;
  lastUse: number;
}

export class FatTable {
  readonly fatType: FatType;
  readonly clusterCount: number;
  /** Highest valid cluster number. */
  readonly maxCluster: number;
  /** Size of one FAT copy in bytes. */
  readonly fatBytes: number;
  /** The copy reads come from (FAT32 with mirroring off may name another than 0). */
  readonly activeFat: number;
  readonly mirrored: boolean;
  private readonly windowBytes: number;
  private readonly windows = new Map<number, Window>();
  private readonly dirtySectors = new Set<number>();
  private useClock = 0;
  /** The single window when the whole used part of the FAT is cached. */
  private whole: Window | null = null;
  private readonly usedBytes: number;
  /** Window lookups answered from memory / needing a read (bench and --stats report them). */
  readonly cacheCounters = { hits: 0, misses: 0 };

  constructor(
    private readonly source: BlockSource,
    private readonly boot: BootSector,
  ) {
    this.fatType = boot.fatType;
    this.clusterCount = boot.clusterCount;
    this.maxCluster = boot.clusterCount + 1;
    this.fatBytes = boot.sectorsPerFat * boot.bytesPerSector;
    // fatgen103 BPB_ExtFlags: bit 7 set = mirroring off, bits 0-3 = the active FAT.
    this.mirrored = boot.fatType !== 'fat32' || (boot.extFlags & 0x80) === 0;
    const active = this.mirrored ? 0 : boot.extFlags & 0x0f;
    this.activeFat = active < boot.numberOfFats ? active : 0;
    // Only the part of the FAT that maps clusters is ever read.
    const usedBytes = (this.usedBytes = Math.min(this.fatBytes, Math.ceil(((this.maxCluster + 1) * bitsPerEntry(this.fatType)) / 8) + 1));
    this.windowBytes = usedBytes <= WHOLE_FAT_LIMIT ? roundUp(usedBytes, boot.bytesPerSector) : WINDOW_BYTES;
  }

  /** Byte position in the source of FAT copy `copy`. */
  fatPosition(copy: number): number {
    return (this.boot.firstFatSector + copy * this.boot.sectorsPerFat) * this.boot.bytesPerSector;
  }

  /** The raw value of entry `cluster` (0 <= cluster <= maxCluster). */
  get(cluster: number): number {
    if (cluster < 0 || cluster > this.maxCluster) {
      throw new DiskkitError(ErrorCode.CHAIN_RANGE, `cluster ${cluster} is outside the FAT`, { context: { cluster } });
    }
    return this.readIn(this.windowFor(cluster), cluster);
  }

  /** Entry `cluster` classified: free, next, bad, end or invalid. */
  entry(cluster: number): FatEntry {
    return classifyFatValue(this.fatType, this.get(cluster), this.maxCluster);
  }

  /** Sets entry `cluster` in the cache and marks its sectors dirty; `flush` writes it out. */
  set(cluster: number, value: number): void {
    if (cluster < 2 || cluster > this.maxCluster) {
      throw new DiskkitError(ErrorCode.CHAIN_RANGE, `cannot set FAT entry of cluster ${cluster} (valid 2..${this.maxCluster})`, { context: { cluster } });
    }
    const byteOffset = entryOffset(this.fatType, cluster);
    const w = this.windowFor(cluster);
    // Windows past the first are FAT32 only and start on an entry boundary.
    writeFatValue(w.bytes, this.fatType, w.offset === 0 ? cluster : cluster - w.offset / 4, value);
    const width = this.fatType === 'fat32' ? 4 : 2;
    const bps = this.boot.bytesPerSector;
    // A FAT12 entry can straddle two sectors: mark both.
    this.dirtySectors.add(Math.floor(byteOffset / bps));
    this.dirtySectors.add(Math.floor((byteOffset + width - 1) / bps));
  }

  /**
   * The volume's clean-shutdown bit in FAT[1] (fatgen103 section 4: FAT16 0x8000,
   * FAT32 0x08000000; set = clean). FAT12 has none: returns true and ignores writes.
   */
  get cleanShutdown(): boolean {
    const bit = this.fatType === 'fat16' ? 0x8000 : this.fatType === 'fat32' ? 0x08000000 : 0;
    return bit === 0 || (this.readIn(this.windowFor(1), 1) & bit) !== 0;
  }

  set cleanShutdown(clean: boolean) {
    const bit = this.fatType === 'fat16' ? 0x8000 : this.fatType === 'fat32' ? 0x08000000 : 0;
    if (bit === 0) return;
    const w = this.windowFor(1);
    const value = this.readIn(w, 1);
    writeFatValue(w.bytes, this.fatType, 1, clean ? value | bit : value & ~bit);
    this.dirtySectors.add(Math.floor(entryOffset(this.fatType, 1) / this.boot.bytesPerSector));
  }

  /** Marks entry `cluster` as end of chain. */
  setEnd(cluster: number): void {
    this.set(cluster, endOfChainValue(this.fatType));
  }

  /** Number of sectors waiting to be written. */
  get dirtyCount(): number {
    return this.dirtySectors.size;
  }

  /** Writes every dirty sector to each FAT copy (all copies when mirrored, else the active one). */
  flush(): void {
    if (this.dirtySectors.size === 0) return;
    const bps = this.boot.bytesPerSector;
    const sectors = [...this.dirtySectors].sort((a, b) => a - b);
    const copies = this.mirrored ? Array.from({ length: this.boot.numberOfFats }, (_, i) => i) : [this.activeFat];
    // Coalesce consecutive dirty sectors into one write each.
    let i = 0;
    while (i < sectors.length) {
      let j = i;
      while (j + 1 < sectors.length && sectors[j + 1] === sectors[j]! + 1 && (sectors[j + 1]! * bps) % this.windowBytes !== 0) j++;
      const startByte = sectors[i]! * bps;
      const length = (sectors[j]! - sectors[i]! + 1) * bps;
      const w = this.window(Math.floor(startByte / this.windowBytes));
      const within = startByte - w.offset;
      for (const copy of copies) this.source.writeAt(w.bytes, within, length, this.fatPosition(copy) + startByte);
      i = j + 1;
    }
    this.dirtySectors.clear();
  }

  /**
   * Counts free clusters by scanning the whole table. Kept out of FSInfo's hint on
   * purpose: the hint may be stale, the table is the truth.
   */
  countFree(): number {
    let free = 0;
    this.scanEntries((_cluster, value) => {
      if (value === 0) free++;
    });
    return free;
  }

  /**
   * Calls `visit(cluster, rawValue)` for every cluster 2..maxCluster, reading the
   * table window by window (the free-cluster bitmap is built from this).
   */
  scanEntries(visit: (cluster: number, value: number) => void): void {
    if (this.fatType !== 'fat32') {
      const w = this.window(0);
      for (let c = 2; c <= this.maxCluster; c++) visit(c, readFatValue(w.bytes, this.fatType, c));
      return;
    }
    for (let c = 2; c <= this.maxCluster; ) {
      const w = this.windowFor(c);
      const b = w.bytes;
      const last = Math.min(this.maxCluster, (w.offset + b.length) / 4 - 1);
      for (; c <= last; c++) {
        const o = c * 4 - w.offset;
        visit(c, (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | ((b[o + 3]! & 0x0f) << 24)) >>> 0);
      }
    }
  }

  /**
   * Sets bit c of `bits` for every cluster 2..maxCluster whose entry is not free and
   * returns how many are free: the allocator's bitmap, built without a call per entry
   * (FAT32 windows are read as 32-bit words; a 256 MiB volume has half a million).
   */
  markUsed(bits: Uint32Array): number {
    if (this.fatType !== 'fat32') {
      let free = 0;
      this.scanEntries((cluster, value) => {
        if (value === 0) free++;
        else bits[cluster >>> 5]! |= 1 << (cluster & 31);
      });
      return free;
    }
    let free = 0;
    for (let c = 2; c <= this.maxCluster; ) {
      const w = this.windowFor(c);
      const b = w.bytes;
      const last = Math.min(this.maxCluster, (w.offset + b.length) / 4 - 1);
      // Windows are fresh ArrayBuffers (see window()), so the view is aligned; the byte loop is the fallback.
      const words = b.byteOffset % 4 === 0 ? new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2) : null;
      const first = w.offset / 4;
      for (; c <= last; c++) {
        const o = c - first;
        const value = words ? words[o]! & 0x0fffffff : (b[o * 4]! | (b[o * 4 + 1]! << 8) | (b[o * 4 + 2]! << 16) | ((b[o * 4 + 3]! & 0x0f) << 24));
        if (value === 0) free++;
        else bits[c >>> 5]! |= 1 << (c & 31);
      }
    }
    return free;
  }

  /**
   * Links `runs` into one chain in the order given and ends it; when `after` is given,
   * that cluster (the old end of a chain) is pointed at the first new cluster.
   */
  linkRuns(runs: readonly ClusterRun[], after?: number): void {
    let prev = after;
    for (const run of runs) {
      for (let c = run.start; c < run.start + run.count; c++) {
        if (prev !== undefined) this.set(prev, c);
        prev = c;
      }
    }
    if (prev !== undefined && prev !== after) this.setEnd(prev);
  }

  /**
   * Walks the chain starting at `start`, calling `visit` with each cluster in order.
   * Stops at end of chain. Throws E_CHAIN_RANGE for a cluster outside 2..maxCluster
   * or a chain running into a free, bad or reserved entry, and E_CHAIN_LOOP when the
   * chain comes back on itself (Brent's cycle detection: O(length), O(1) memory; a
   * chain longer than the cluster count is a loop by definition). `visit` returning
   * false stops the walk early (no further validation).
   */
  walk(start: number, visit: (cluster: number) => boolean | void, what = 'chain'): void {
    this.checkCluster(start, start, what);
    let cluster = start;
    let steps = 0;
    let tortoise = start;
    let power = 1;
    let lambda = 0;
    // The common case, a link to another cluster, is told by range alone; classifyFatValue
    // (an object per entry) only sees the end and the errors. A 1 GiB file's 262,144 links
    // took about 45 ms the other way.
    const mask = this.fatType === 'fat32' ? 0x0fffffff : 0xffff;
    const firstMarker = badClusterValue(this.fatType);
    const maxCluster = this.maxCluster;
    for (;;) {
      if (visit(cluster) === false) return;
      steps++;
      const value = this.get(cluster);
      const link = value & mask;
      if (link < 2 || link > maxCluster || link >= firstMarker) {
        const next = classifyFatValue(this.fatType, value, maxCluster);
        if (next.kind === 'end') return;
        if (next.kind !== 'next') {
          const why = next.kind === 'free' ? 'runs into a free cluster' : next.kind === 'bad' ? 'runs into a cluster marked bad' : `has an invalid FAT value 0x${value.toString(16)}`;
          throw new DiskkitError(ErrorCode.CHAIN_RANGE, `${what} ${why} after cluster ${cluster}`, { context: { cluster, value, start } });
        }
      }
      cluster = link;
      if (cluster === tortoise || steps > this.clusterCount) {
        throw new DiskkitError(ErrorCode.CHAIN_LOOP, `${what} loops back to cluster ${cluster}`, { context: { cluster, start } });
      }
      lambda++;
      if (lambda === power) {
        tortoise = cluster;
        power *= 2;
        lambda = 0;
      }
    }
  }

  /** The clusters of a chain, coalesced into contiguous runs. `limit` stops after that many clusters. */
  runs(start: number, limit = Infinity, what = 'chain'): ClusterRun[] {
    const runs: ClusterRun[] = [];
    let taken = 0;
    let last: ClusterRun | null = null;
    this.walk(
      start,
      (cluster) => {
        if (taken >= limit) return false;
        taken++;
        if (last && cluster === last.start + last.count) last.count++;
        else {
          last = { start: cluster, count: 1 };
          runs.push(last);
        }
        return true;
      },
      what,
    );
    return runs;
  }

  /** Number of clusters in a chain (validated). */
  chainLength(start: number, what = 'chain'): number {
    let n = 0;
    this.walk(start, () => {
      n++;
    }, what);
    return n;
  }

  /** Byte position in the source of the first byte of `cluster`. */
  clusterPosition(cluster: number): number {
    return (this.boot.firstDataSector + (cluster - 2) * this.boot.sectorsPerCluster) * this.boot.bytesPerSector;
  }

  /** Cluster runs as byte extents of the source, cut to `bytes` in total. */
  runsToExtents(runs: readonly ClusterRun[], bytes: number): Extent[] {
    const extents: Extent[] = [];
    const clusterBytes = this.boot.bytesPerCluster;
    let left = bytes;
    for (const run of runs) {
      if (left <= 0) break;
      const length = Math.min(left, run.count * clusterBytes);
      extents.push({ position: this.clusterPosition(run.start), length });
      left -= length;
    }
    return extents;
  }

  private checkCluster(cluster: number, start: number, what: string): void {
    if (cluster < 2 || cluster > this.maxCluster) {
      throw new DiskkitError(ErrorCode.CHAIN_RANGE, `${what} starts at cluster ${cluster}, outside 2..${this.maxCluster}`, { context: { cluster, start } });
    }
  }

  private readIn(w: Window, cluster: number): number {
    if (w.offset === 0) return readFatValue(w.bytes, this.fatType, cluster);
    // Windows are only used for FAT32 (FAT12/16 tables are always read whole), whose 4-byte entries never straddle a window.
    const o = cluster * 4 - w.offset;
    const b = w.bytes;
    return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
  }

  private windowFor(cluster: number): Window {
    if (this.whole) {
      this.cacheCounters.hits++;
      return this.whole;
    }
    return this.window(Math.floor(entryOffset(this.fatType, cluster) / this.windowBytes));
  }

  private window(index: number): Window {
    const hit = this.windows.get(index);
    if (hit) {
      this.cacheCounters.hits++;
      hit.lastUse = ++this.useClock;
      return hit;
    }
    this.cacheCounters.misses++;
    if (this.windows.size >= MAX_WINDOWS) this.evict();
    const offset = index * this.windowBytes;
    const length = Math.min(this.windowBytes, this.fatBytes - offset);
    // A fresh ArrayBuffer (not the Buffer pool) so FAT32 readers could view it as Uint32.
    const bytes = new Uint8Array(length);
    this.source.readAt(bytes, 0, length, this.fatPosition(this.activeFat) + offset);
    const w = { offset, bytes, lastUse: ++this.useClock };
    this.windows.set(index, w);
    if (this.windowBytes >= this.usedBytes) this.whole = w;
    return w;
  }

  private evict(): void {
    const bps = this.boot.bytesPerSector;
    let victim: [number, Window] | null = null;
    for (const e of this.windows) {
      const dirty = [...this.dirtySectors].some((s) => Math.floor((s * bps) / this.windowBytes) === e[0]);
      if (dirty) continue;
      if (!victim || e[1].lastUse < victim[1].lastUse) victim = e;
    }
    if (!victim) {
      this.flush();
      return this.evict();
    }
    this.windows.delete(victim[0]);
  }
}

function bitsPerEntry(type: FatType): number {
  return type === 'fat12' ? 12 : type === 'fat16' ? 16 : 32;
}

function entryOffset(type: FatType, cluster: number): number {
  return type === 'fat12' ? cluster + (cluster >>> 1) : type === 'fat16' ? cluster * 2 : cluster * 4;
}

function roundUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}

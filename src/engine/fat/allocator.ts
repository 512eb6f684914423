/**
 * The free-cluster bitmap: one bit per cluster (1 = in use), built from the FAT the
 * first time a write needs it. Allocation looks for one contiguous run (next to the
 * file's last cluster when appending, else from the next-free hint, which FAT32
 * keeps in FSInfo, fatgen103 section 5) and falls back to several runs taken in
 * cluster order. The bitmap only answers "which clusters"; linking them into a chain
 * is FatTable's job, so a failed operation releases bits and leaves the FAT untouched.
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import { count as countOf } from '../plural.js';
import type { ClusterRun, FatTable } from './fat-table.js';

export class ClusterAllocator {
  /** Bit c set = cluster c in use. Clusters 0 and 1 are reserved and always set. */
  private readonly bits: Uint32Array;
  readonly maxCluster: number;
  private free: number;
  /** Where the next search starts (FSInfo FSI_Nxt_Free semantics: a hint, not a promise). */
  private hint: number;

  private constructor(bits: Uint32Array, maxCluster: number, free: number, hint: number | null) {
    this.bits = bits;
    this.maxCluster = maxCluster;
    this.free = free;
    this.hint = hint !== null && hint >= 2 && hint <= maxCluster ? hint : 2;
  }

  /** Builds the bitmap by scanning every FAT entry once. `hint` is FSInfo's next-free cluster, if any. */
  static fromFat(fat: FatTable, hint: number | null = null): ClusterAllocator {
    const maxCluster = fat.maxCluster;
    const bits = new Uint32Array(Math.ceil((maxCluster + 1) / 32));
    // Anything but 0 (free) is unavailable: chains, end marks, bad clusters, invalid values.
    const free = fat.markUsed(bits);
    bits[0]! |= 0b11;
    // Bits past maxCluster in the last word count as used so scans never hand them out.
    for (let c = maxCluster + 1; c < bits.length * 32; c++) bits[c >>> 5]! |= 1 << (c & 31);
    return new ClusterAllocator(bits, maxCluster, free, hint);
  }

  get freeCount(): number {
    return this.free;
  }

  /** The next-free hint to store in FSInfo. */
  get nextFree(): number {
    return this.hint;
  }

  /** A copy of the in-use bits as they are now (bit c set = cluster c in use). */
  snapshotUsed(): Uint32Array {
    return this.bits.slice();
  }

  isUsed(cluster: number): boolean {
    return (this.bits[cluster >>> 5]! & (1 << (cluster & 31))) !== 0;
  }

  /**
   * Takes `count` free clusters and marks them used; returns them as runs in chain
   * order. Prefers a single run starting right after `after` (appending), then a
   * single run anywhere (searching from the hint), then several runs in cluster
   * order from the hint. Throws E_NO_SPACE (taking nothing) when fewer are free.
   */
  allocate(count: number, options: { after?: number } = {}): ClusterRun[] {
    if (count <= 0) return [];
    if (count > this.free) {
      throw new DiskkitError(ErrorCode.NO_SPACE, `no space left on the volume: need ${countOf(count, 'cluster')}, ${this.free} free`, {
        context: { needed: count, free: this.free },
      });
    }
    let runs: ClusterRun[] | null = null;
    const after = options.after;
    if (after !== undefined && after + 1 <= this.maxCluster && this.freeRunLength(after + 1, count) >= count) {
      runs = [{ start: after + 1, count }];
    }
    runs ??= this.findRun(count);
    runs ??= this.gather(count);
    for (const run of runs) this.setRange(run.start, run.count, true);
    this.free -= count;
    const last = runs[runs.length - 1]!;
    this.hint = last.start + last.count <= this.maxCluster ? last.start + last.count : 2;
    return runs;
  }

  /** Marks clusters free again (after a failed operation, or when a file is removed). */
  release(runs: readonly ClusterRun[]): void {
    for (const run of runs) {
      for (let c = run.start; c < run.start + run.count; c++) {
        if (c < 2 || c > this.maxCluster) continue;
        if (this.isUsed(c)) {
          this.bits[c >>> 5]! &= ~(1 << (c & 31));
          this.free++;
        }
      }
    }
  }

  /** Length (capped at `want`) of the free run starting at `start`. */
  private freeRunLength(start: number, want: number): number {
    let n = 0;
    for (let c = start; c <= this.maxCluster && n < want; ) {
      const w = this.bits[c >>> 5]!;
      if ((c & 31) === 0 && w === 0) {
        n += 32;
        c += 32;
        continue;
      }
      if (w & (1 << (c & 31))) break;
      n++;
      c++;
    }
    return Math.min(n, want, this.maxCluster - start + 1);
  }

  /** The first free cluster at or after `from` (wrapping once), or -1. */
  private nextFreeFrom(from: number, limit: number): number {
    let c = from;
    while (c <= limit) {
      const w = this.bits[c >>> 5]!;
      if (w === 0xffffffff) {
        c = ((c >>> 5) + 1) << 5;
        continue;
      }
      if ((w & (1 << (c & 31))) === 0) return c;
      c++;
    }
    return -1;
  }

  /**
   * The first used cluster at or after `from` (the end of a free run), capped at
   * maxCluster+1 and at `cap`: callers only need to know whether a run is long
   * enough, and scanning a fresh volume's whole free tail per small file would make
   * copying many files quadratic.
   */
  private nextUsedFrom(from: number, cap = Number.POSITIVE_INFINITY): number {
    let c = from;
    const limit = Math.min(this.maxCluster, cap - 1);
    if (from > limit) return Math.min(from, this.maxCluster + 1);
    while (c <= limit) {
      const w = this.bits[c >>> 5]!;
      if ((c & 31) === 0 && w === 0) {
        c += 32;
        continue;
      }
      if (w & (1 << (c & 31))) return c;
      c++;
    }
    return Math.min(c, this.maxCluster + 1);
  }

  /** One run of `count` free clusters, first fit from the hint, wrapping once. */
  private findRun(count: number): ClusterRun[] | null {
    const search = (from: number, to: number): ClusterRun[] | null => {
      let c = from;
      while (c <= to) {
        const start = this.nextFreeFrom(c, to);
        if (start === -1) return null;
        const end = this.nextUsedFrom(start, start + count);
        if (end - start >= count) return [{ start, count }];
        c = end;
      }
      return null;
    };
    return search(this.hint, this.maxCluster) ?? (this.hint > 2 ? search(2, this.maxCluster) : null);
  }

  /** Several runs totalling `count`, in cluster order from the hint (wrapping once). */
  private gather(count: number): ClusterRun[] {
    const runs: ClusterRun[] = [];
    let left = count;
    const take = (from: number, to: number): void => {
      let c = from;
      while (left > 0 && c <= to) {
        const start = this.nextFreeFrom(c, to);
        if (start === -1) return;
        const end = Math.min(this.nextUsedFrom(start, start + left), to + 1);
        const n = Math.min(end - start, left);
        runs.push({ start, count: n });
        left -= n;
        c = start + n;
      }
    };
    take(this.hint, this.maxCluster);
    if (left > 0) take(2, this.hint - 1);
    if (left > 0) throw new DiskkitError(ErrorCode.CORRUPT, 'free-cluster bitmap disagrees with its count', { context: { needed: count } });
    return runs;
  }

  private setRange(start: number, count: number, used: boolean): void {
    for (let c = start; c < start + count; c++) {
      if (used) this.bits[c >>> 5]! |= 1 << (c & 31);
      else this.bits[c >>> 5]! &= ~(1 << (c & 31));
    }
  }
}

/**
 * Allocates `count` single clusters on `allocator` and returns the mean time per
 * allocation in microseconds. Meant for a temporary copy of a volume (it consumes
 * free clusters in the bitmap only; the FAT is never touched, nothing is written).
 * Used by the allocation benchmark and `diskkit bench`.
 */
export function measureAllocation(allocator: ClusterAllocator, count: number): { allocations: number; microsPerAllocation: number } {
  const n = Math.min(count, allocator.freeCount);
  const taken: ClusterRun[][] = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) taken.push(allocator.allocate(1));
  const elapsed = Number(process.hrtime.bigint() - t0) / 1000;
  for (const runs of taken) allocator.release(runs);
  return { allocations: n, microsPerAllocation: n === 0 ? 0 : elapsed / n };
}

/**
 * The free-space allocator (docs/cartridge-format.md §8): free extents sorted by start,
 * each remembering the generation that wrote it (born) and the commit that dropped it
 * (freed), so that a page reachable from the fallback tree or from a snapshot is never
 * handed out again. Data extents get contiguous runs (first fit by address, else the end
 * of the file); metadata pages take single pages from the lowest reusable extent.
 */
import { DiskkitError, ErrorCode } from '../errors.js';
import { FIRST_DATA_PAGE } from './meta-page.js';

export interface FreeExtent {
  start: number;
  length: number;
  /** 0 with freed 0: clean, reusable by anyone. */
  born: number;
  freed: number;
}

export interface FreeSpaceOptions {
  records?: FreeExtent[];
  /** Committed file length in pages; pages at or past it are free and not listed. */
  pageCount: number;
  /** The running transaction t (committed generation + 1). */
  generation: number;
  /** Generations pinned by snapshots. */
  snapshotGenerations?: number[];
}

export class FreeSpace {
  private records: FreeExtent[];
  private snapshots: number[];
  pageCount: number;
  generation: number;

  constructor(options: FreeSpaceOptions) {
    this.records = (options.records ?? []).map((r) => ({ ...r }));
    this.pageCount = options.pageCount;
    this.generation = options.generation;
    this.snapshots = [...(options.snapshotGenerations ?? [])].sort((a, b) => a - b);
    validateRecords(this.records, this.pageCount);
  }

  /** Replaces the records (the list read from disk at open). */
  replaceRecords(records: FreeExtent[]): void {
    validateRecords(records, this.pageCount);
    this.records = records.map((r) => ({ ...r }));
  }

  /** Starts transaction `generation` (after the previous one committed). */
  beginTransaction(generation: number): void {
    if (generation <= this.generation - 1) throw new Error(`generation ${generation} goes backwards`);
    this.generation = generation;
  }

  setSnapshotGenerations(generations: number[]): void {
    this.snapshots = [...generations].sort((a, b) => a - b);
  }

  /** Adds a pin (a snapshot created in the running transaction); existing pins stay. */
  pinGeneration(generation: number): void {
    this.setSnapshotGenerations([...this.snapshots, generation]);
  }

  /** §8 reuse rule for transaction t = this.generation. */
  isReusable(record: FreeExtent): boolean {
    const t = this.generation;
    if (record.born === 0 && record.freed === 0) return true;
    if (record.freed === t) return record.born === t;
    if (record.freed > t) return false;
    return !this.pinnedBySnapshot(record);
  }

  private pinnedBySnapshot(record: FreeExtent): boolean {
    // Is there a snapshot s with born <= s < freed? Binary search for the first s >= born.
    let lo = 0;
    let hi = this.snapshots.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.snapshots[mid]! < record.born) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.snapshots.length && this.snapshots[lo]! < record.freed;
  }

  /** A contiguous run of `count` pages: first fit among reusable extents, else the end of the file. */
  allocate(count: number): number {
    if (!Number.isInteger(count) || count < 1) throw new Error(`cannot allocate ${count} pages`);
    for (let i = 0; i < this.records.length; i++) {
      const record = this.records[i]!;
      if (record.length < count || !this.isReusable(record)) continue;
      const start = record.start;
      record.start += count;
      record.length -= count;
      if (record.length === 0) this.records.splice(i, 1);
      return start;
    }
    const start = this.pageCount;
    if (start + count > Number.MAX_SAFE_INTEGER) throw new DiskkitError(ErrorCode.NO_SPACE, 'image would exceed 2^53 pages');
    this.pageCount += count;
    return start;
  }

  /**
   * Returns pages [start, start + count) born at `born` to free space. Pages born in the
   * running transaction were never committed and become clean at once.
   */
  free(start: number, count: number, born: number): void {
    if (start < FIRST_DATA_PAGE || count < 1 || start + count > this.pageCount) {
      throw new DiskkitError(ErrorCode.CORRUPT, `free of pages ${start}..${start + count - 1} outside the image`, { context: { page: start, count } });
    }
    const clean = born === this.generation;
    const record: FreeExtent = clean ? { start, length: count, born: 0, freed: 0 } : { start, length: count, born, freed: this.generation };
    const i = this.lowerBound(start);
    const before = this.records[i - 1];
    const after = this.records[i];
    if ((before && before.start + before.length > start) || (after && after.start < start + count)) {
      throw new DiskkitError(ErrorCode.CORRUPT, `pages ${start}..${start + count - 1} freed twice`, { context: { page: start, count } });
    }
    this.records.splice(i, 0, record);
    this.mergeAround(i);
  }

  /**
   * Rewrites every record no future transaction can be refused (freed before t, no
   * snapshot pin) as clean, merges neighbours with equal attributes, and gives clean space
   * at the end of the file back (pageCount shrinks).
   */
  normalize(): void {
    for (const record of this.records) {
      if (record.freed !== 0 && record.freed < this.generation && !this.pinnedBySnapshot(record)) {
        record.born = 0;
        record.freed = 0;
      }
    }
    const merged: FreeExtent[] = [];
    for (const record of this.records) {
      const last = merged[merged.length - 1];
      if (last && sameAttributes(last, record) && last.start + last.length === record.start) last.length += record.length;
      else merged.push({ ...record });
    }
    this.records = merged;
    for (;;) {
      const last = this.records[this.records.length - 1];
      if (!last || last.born !== 0 || last.start + last.length !== this.pageCount) break;
      this.pageCount = last.start;
      this.records.pop();
    }
  }

  /**
   * Takes pages [start, start + count) out of free space wherever records cover them
   * (snapshot restore: pages of the restored tree are live again). Pages no record
   * covers are left alone: they are already in use.
   */
  reserve(start: number, count: number): void {
    const end = start + count;
    const kept: FreeExtent[] = [];
    for (const r of this.records) {
      const rEnd = r.start + r.length;
      if (rEnd <= start || r.start >= end) {
        kept.push(r);
        continue;
      }
      if (r.start < start) kept.push({ ...r, length: start - r.start });
      if (rEnd > end) kept.push({ ...r, start: end, length: rEnd - end });
    }
    this.records = kept;
  }

  list(): FreeExtent[] {
    return this.records.map((r) => ({ ...r }));
  }

  /** Pages transaction t could allocate without growing the file. */
  reusablePages(): number {
    return this.records.reduce((sum, r) => sum + (this.isReusable(r) ? r.length : 0), 0);
  }

  private lowerBound(start: number): number {
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.records[mid]!.start < start) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private mergeAround(i: number): void {
    const record = this.records[i]!;
    const after = this.records[i + 1];
    if (after && sameAttributes(record, after) && record.start + record.length === after.start) {
      record.length += after.length;
      this.records.splice(i + 1, 1);
    }
    const before = this.records[i - 1];
    if (before && sameAttributes(before, record) && before.start + before.length === record.start) {
      before.length += record.length;
      this.records.splice(i, 1);
    }
  }
}

function sameAttributes(a: FreeExtent, b: FreeExtent): boolean {
  return a.born === b.born && a.freed === b.freed;
}

/** Records read from disk: sorted, non-overlapping, inside [3, pageCount), born ≤ freed. */
export function validateRecords(records: FreeExtent[], pageCount: number): void {
  let end = FIRST_DATA_PAGE;
  for (const r of records) {
    const bad = (what: string) => new DiskkitError(ErrorCode.CORRUPT, `free list: extent at page ${r.start}: ${what}`, { context: { page: r.start, length: r.length } });
    if (r.length < 1) throw bad('empty');
    if (r.start < end) throw bad('overlaps or is out of order');
    if (r.start + r.length > pageCount) throw bad(`runs past the image end (${pageCount} pages)`);
    if ((r.born === 0) !== (r.freed === 0) || r.born > r.freed) throw bad(`born ${r.born} / freed ${r.freed} inconsistent`);
    end = r.start + r.length;
  }
}

/**
 * The free pages of a committed list, split by the §8 reuse rule as the next transaction
 * (committed generation + 1) sees it: `reusable` can be handed out, `heldBySnapshots` are
 * dropped from the current tree but still reachable from a snapshot (deleting it frees them).
 */
export function countFreePages(records: FreeExtent[], pageCount: number, committedGeneration: number, snapshotGenerations: number[]): { reusable: number; heldBySnapshots: number } {
  const reusable = new FreeSpace({ records, pageCount, generation: committedGeneration + 1, snapshotGenerations }).reusablePages();
  const all = records.reduce((sum, r) => sum + r.length, 0);
  return { reusable, heldBySnapshots: all - reusable };
}

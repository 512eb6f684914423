/**
 * Small files' data, gathered into one image write. A tree copy gives each new file
 * clusters right after the previous file's, so their bytes form one run of the image:
 * written as it comes, that is a write call per file (10,000 for 10,000 small files);
 * gathered here, one per megabyte.
 *
 * Safe for crash and rollback alike because only data goes through here, into
 * clusters allocated by this command (free when it began: the journal does not save
 * them, and a rollback makes them free again), and because the batch is written before
 * anything that points at those clusters: FatWriter writes it first when it writes
 * directories, FAT and FSInfo back, and before any read of file data through the
 * volume. A failed batch write poisons the writer (volume-writer.ts): its files'
 * entries must never be committed.
 */
import type { BlockSource } from '../../io/block-source.js';

/** How much data waits for one write: the size the streaming path writes per call too. */
export const DATA_BATCH_BYTES = 1024 * 1024;
/** The widest stretch of directory clusters a batch runs over. */
const MAX_FILLED_GAP = 64 * 1024;

export class DataWriteBatch {
  private buffer: Uint8Array | null = null;
  /** Image position of buffer[0]; meaningful while `length` > 0. */
  private position = 0;
  private length = 0;
  /** The error of a batch write that failed: what it held never reached the image. */
  failure: unknown = null;

  /**
   * Clusters given to directories since the last write-back. Each is written whole by
   * its directory's next flush, which comes after this batch's, so a batch may run over
   * them (zeros for now) instead of stopping between two files' data.
   */
  private readonly directoryClusters = new Set<number>();

  /** `layout`: where cluster 2 starts in the source and the cluster size (without it, no gap is ever filled). */
  constructor(
    private readonly source: BlockSource,
    private readonly layout: { dataStart: number; clusterBytes: number } | null = null,
  ) {}

  /** Clusters a directory grew into (or a new directory's first): see directoryClusters. */
  noteDirectoryClusters(runs: readonly { start: number; count: number }[]): void {
    for (const run of runs) for (let c = run.start; c < run.start + run.count; c++) this.directoryClusters.add(c);
  }

  /** A freed cluster may go to a file next: a batch must not run over it any more. */
  forgetCluster(cluster: number): void {
    this.directoryClusters.delete(cluster);
  }

  /** Directories were written back: from here on nothing may run over their clusters. */
  forgetDirectoryClusters(): void {
    this.directoryClusters.clear();
  }

  /** Whether image bytes [from, to) lie wholly in clusters of directoryClusters. */
  private canFill(from: number, to: number): boolean {
    if (this.layout === null) return false;
    const { dataStart, clusterBytes } = this.layout;
    if (from < dataStart || (from - dataStart) % clusterBytes !== 0 || (to - dataStart) % clusterBytes !== 0) return false;
    for (let c = 2 + (from - dataStart) / clusterBytes, last = 2 + (to - dataStart) / clusterBytes; c < last; c++) {
      if (!this.directoryClusters.has(c)) return false;
    }
    return true;
  }

  /** Bytes waiting to be written. */
  get pending(): number {
    return this.length;
  }

  /**
   * Writes `data[offset..offset+length)` at image `position`: gathered when it continues
   * the batch (or starts one) and fits, else after the batch, directly. `slack` zero
   * bytes follow it (the rest of the file's last cluster, also this command's), so that
   * the next file's first cluster continues the batch.
   */
  write(data: Uint8Array, offset: number, length: number, position: number, slack = 0): void {
    if (this.failure !== null) throw this.failure;
    if (length <= 0) return;
    // Big pieces gain nothing from a copy: they go out as they are (after what waits).
    if (length + slack > DATA_BATCH_BYTES / 4) {
      this.flush();
      this.source.writeAt(data, offset, length, position);
      return;
    }
    if (this.length > 0) {
      const end = this.position + this.length;
      const gap = position - end;
      const fits = this.length + gap + length + slack <= DATA_BATCH_BYTES;
      if (gap > 0 && gap <= MAX_FILLED_GAP && fits && this.canFill(end, position)) {
        // What lands there now is overwritten later (see canFill): zeros, not stale bytes of an earlier batch.
        this.buffer!.fill(0, this.length, this.length + gap);
        this.length += gap;
      } else if (gap !== 0 || !fits) this.flush();
    }
    if (this.length === 0) this.position = position;
    this.buffer ??= new Uint8Array(DATA_BATCH_BYTES);
    this.buffer.set(length === data.length && offset === 0 ? data : data.subarray(offset, offset + length), this.length);
    this.length += length;
    if (slack > 0) {
      this.buffer.fill(0, this.length, this.length + slack);
      this.length += slack;
    }
  }

  /** Writes what waits. On failure nothing waits any more (the caller must not commit what pointed at it). */
  flush(): void {
    if (this.failure !== null) throw this.failure;
    if (this.length === 0) return;
    const length = this.length;
    this.length = 0;
    try {
      this.source.writeAt(this.buffer!, 0, length, this.position);
    } catch (error) {
      this.failure = error;
      throw error;
    }
  }
}

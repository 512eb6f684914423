/**
 * A write-behind view of a block source: writes are kept in memory (per 512-byte
 * sector) and reads see them, until `commit` writes them all to the source in
 * ascending order. A multi-step change (an fsck repair) is carried out completely
 * against this view first, so an error anywhere in it leaves the image untouched:
 * nothing reaches the image before the whole change has been computed.
 */
import type { BlockSource } from './block-source.js';
import { newIoCounters } from './block-source.js';

const SECTOR = 512;

export class StagedWrites implements BlockSource {
  readonly kind = 'memory' as const;
  readonly counters = newIoCounters();
  readonly fd = undefined;
  readonly baseOffset = 0;
  readonly writable = true;
  private readonly sectors = new Map<number, Uint8Array>();

  constructor(readonly base: BlockSource) {}

  get name(): string {
    return this.base.name;
  }

  get size(): number {
    return this.base.size;
  }

  /** Bytes staged so far (whole sectors). */
  get stagedBytes(): number {
    return this.sectors.size * SECTOR;
  }

  readAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    this.base.readAt(buf, offset, length, position);
    if (this.sectors.size === 0) return;
    for (let s = Math.floor(position / SECTOR); s * SECTOR < position + length; s++) {
      const staged = this.sectors.get(s);
      if (!staged) continue;
      const from = Math.max(position, s * SECTOR);
      const to = Math.min(position + length, (s + 1) * SECTOR);
      buf.set(staged.subarray(from - s * SECTOR, to - s * SECTOR), offset + (from - position));
    }
  }

  writeAt(buf: Uint8Array, offset: number, length: number, position: number): void {
    if (position < 0 || position + length > this.size) {
      throw new RangeError(`staged write of ${length} bytes at ${position} is outside the ${this.size}-byte image`);
    }
    for (let s = Math.floor(position / SECTOR); s * SECTOR < position + length; s++) {
      let staged = this.sectors.get(s);
      if (!staged) {
        staged = new Uint8Array(SECTOR);
        // The last sector of an image whose size is not a multiple of 512 is read in part.
        const have = Math.min(SECTOR, this.size - s * SECTOR);
        this.base.readAt(staged, 0, have, s * SECTOR);
        this.sectors.set(s, staged);
      }
      const from = Math.max(position, s * SECTOR);
      const to = Math.min(position + length, (s + 1) * SECTOR);
      staged.set(buf.subarray(offset + (from - position), offset + (to - position)), from - s * SECTOR);
    }
  }

  /** Writes every staged sector to the source (contiguous sectors in one write), then syncs it. */
  commit(): void {
    const order = [...this.sectors.keys()].sort((a, b) => a - b);
    for (let i = 0; i < order.length; ) {
      let j = i + 1;
      while (j < order.length && order[j] === order[j - 1]! + 1 && j - i < 2048) j++;
      const first = order[i]!;
      const end = Math.min(this.size, (order[j - 1]! + 1) * SECTOR);
      const run = new Uint8Array(end - first * SECTOR);
      for (let k = i; k < j; k++) {
        const bytes = this.sectors.get(order[k]!)!;
        const at = (order[k]! - first) * SECTOR;
        run.set(bytes.subarray(0, Math.min(SECTOR, run.length - at)), at);
      }
      this.base.writeAt(run, 0, run.length, first * SECTOR);
      i = j;
    }
    this.sectors.clear();
    this.base.sync();
  }

  sync(): void {
    // Nothing reaches the source before commit.
  }

  close(): void {
    this.sectors.clear();
  }
}

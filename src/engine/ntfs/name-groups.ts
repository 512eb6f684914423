/**
 * Names (or streams) grouped by the record that owns them, as a CSR index: the
 * entries of record r are order[start[r] .. start[r+1]), in the order the record
 * holds them. Built from the entry ranges each chunk filled, taken in chunk
 * (= record) order, so the grouping is the same in every read mode however the
 * parse threads interleaved their claims on the list. Arrays are shared memory, so
 * other threads (format workers) read them as they are.
 */
import type { NameList } from './name-list.js';
import { zeroedForReuse } from './zeroed-reuse.js';

export interface NameIndex {
  start: Uint32Array;
  order: Uint32Array;
}

/** `n` zeros in shared memory: in `reuse`'s buffer (an earlier index's array, index-memory.ts) when it holds that many. */
function sharedU32(n: number, reuse?: Uint32Array): Uint32Array {
  const bytes = 4 * Math.max(1, n);
  return new Uint32Array(zeroedForReuse<SharedArrayBuffer>(reuse?.buffer, bytes, true) ?? new SharedArrayBuffer(bytes), 0, n);
}

/** Collects a list's entries chunk by chunk, in record order, into a NameIndex. */
export class NameGroupBuilder {
  private order: Uint32Array;
  private used = 0;
  private readonly counts: Uint32Array;
  private lastOwner = 0;
  /** False when an entry came out of record order (then finish() sorts by owner). */
  private inOrder = true;

  constructor(
    private readonly list: NameList,
    private readonly recordCount: number,
    expected = 1024,
    /** An earlier index's grouping whose arrays may be taken over (index-memory.ts). */
    reuse?: NameIndex | null,
  ) {
    this.order = sharedU32(Math.max(1024, expected), reuse?.order);
    this.counts = sharedU32(recordCount + 1, reuse?.start);
  }

  /** Adds the entries of [start, end) pairs (one chunk's ranges, in fill order). */
  add(ranges: readonly number[]): void {
    const list = this.list;
    const count = this.recordCount;
    for (let k = 0; k + 1 < ranges.length; k += 2) {
      const from = ranges[k]!;
      const to = ranges[k + 1]!;
      if (to > list.owner.length) list.refreshViews();
      if (this.used + (to - from) > this.order.length) {
        const grown = sharedU32(Math.max(2 * this.order.length, this.used + (to - from)));
        grown.set(this.order.subarray(0, this.used));
        this.order = grown;
      }
      const owner = list.owner;
      const order = this.order;
      const counts = this.counts;
      let used = this.used;
      for (let i = from; i < to; i++) {
        const o = owner[i]!;
        if (o >= count) continue;
        if (o < this.lastOwner) this.inOrder = false;
        this.lastOwner = o;
        order[used++] = i;
        counts[o + 1]!++;
      }
      this.used = used;
    }
  }

  finish(): NameIndex {
    const start = this.counts;
    for (let r = 0; r < this.recordCount; r++) start[r + 1]! += start[r]!;
    const order = this.order.subarray(0, this.used);
    return this.inOrder ? { start, order } : regroupByOwner(this.list, order, this.recordCount);
  }
}

/**
 * Groups the entries listed in `entries` by their current owner (after extension
 * records were merged into their base records), keeping the sequence's order within
 * a record: by the number of the record that held them, then as that record held them.
 */
export function regroupByOwner(list: NameList, entries: Uint32Array, recordCount: number): NameIndex {
  const start = sharedU32(recordCount + 1);
  const owner = list.owner;
  let n = 0;
  for (let k = 0; k < entries.length; k++) {
    const o = owner[entries[k]!]!;
    if (o < recordCount) {
      start[o + 1]!++;
      n++;
    }
  }
  for (let r = 0; r < recordCount; r++) start[r + 1]! += start[r]!;
  const fill = start.slice(0, recordCount);
  const order = sharedU32(n);
  for (let k = 0; k < entries.length; k++) {
    const i = entries[k]!;
    const o = owner[i]!;
    if (o < recordCount) order[fill[o]!++] = i;
  }
  return { start, order };
}


import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { NameList, NO_OWNER, entriesPerRecordBound, growTo } from '../src/engine/ntfs/name-list.js';
import { NameGroupBuilder, regroupByOwner } from '../src/engine/ntfs/name-groups.js';
import { isDiskkitError } from '../src/engine/errors.js';

/**
 * The name list is filled by several parse threads at once, each claiming blocks;
 * here two attached views of one list play those threads, taking chunks of records
 * in an arbitrary interleaving, and the grouping is checked against a plain model:
 * per record, its names in the order they were added, corrupt records dropped.
 */
const RECORD_SIZE = 512;

interface Chunk {
  records: { names: string[]; corrupt: boolean }[];
  thread: number;
}

function fill(list: NameList, firstRecord: number, chunk: Chunk): number[] {
  chunk.records.forEach((rec, k) => {
    const record = firstRecord + k;
    const mark = list.beginRecord();
    for (const name of rec.names) {
      const i = list.reserve(name.length);
      list.owner[i] = record;
      list.parent[i] = record * 10;
      for (let c = 0; c < name.length; c++) list.chars[list.charStart[i]! + c] = name.charCodeAt(c);
    }
    if (rec.corrupt) list.dropRecord(mark);
  });
  return list.takeRanges();
}

const nameArb = fc.string({ minLength: 1, maxLength: 12 });
const recordArb = fc.record({ names: fc.array(nameArb, { maxLength: entriesPerRecordBound(RECORD_SIZE) - 1 }), corrupt: fc.boolean({ freq: 8 }) });
const chunkArb = fc.record({ records: fc.array(recordArb, { minLength: 1, maxLength: 30 }), thread: fc.integer({ min: 0, max: 1 }) });

describe('NameList: block claims from several threads, grouped in record order', () => {
  it('any interleaving of two fillers groups every record’s names as the model says', () => {
    fc.assert(
      fc.property(fc.array(chunkArb, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 0, max: 11 })), (chunks, fillOrder) => {
        const recordCount = chunks.reduce((n, c) => n + c.records.length, 0);
        // Small blocks and no room reserved up front, so claims and growth happen often.
        const main = NameList.create({ recordCount, recordSize: RECORD_SIZE, entryBlock: 1, charBlock: 1 });
        const threads = [NameList.attach(main.share), NameList.attach(main.share)];
        const firsts: number[] = [];
        chunks.reduce((first, c) => (firsts.push(first), first + c.records.length), 0);
        // Chunks are filled in a scrambled order (threads finish out of order) but grouped in chunk order.
        const order = [...chunks.keys()].sort((a, b) => (fillOrder[a] ?? a) - (fillOrder[b] ?? b) || a - b);
        const ranges: number[][] = [];
        for (const c of order) ranges[c] = fill(threads[chunks[c]!.thread]!, firsts[c]!, chunks[c]!);
        const groups = new NameGroupBuilder(main, recordCount);
        for (const r of ranges) groups.add(r);
        const { start, order: entries } = groups.finish();
        main.refreshViews();
        chunks.forEach((c, ci) =>
          c.records.forEach((rec, k) => {
            const record = firsts[ci]! + k;
            const got: string[] = [];
            for (let j = start[record]!; j < start[record + 1]!; j++) {
              const i = entries[j]!;
              expect(main.owner[i]).toBe(record);
              expect(main.parent[i]).toBe(record * 10);
              got.push(main.name(i));
            }
            expect(got).toEqual(rec.corrupt ? [] : rec.names);
          }),
        );
        // Nothing else is listed: block tails and dropped entries read as empty.
        const listed = chunks.flatMap((c) => c.records.filter((r) => !r.corrupt).flatMap((r) => r.names)).length;
        expect(entries.length).toBe(listed);
        let live = 0;
        for (let i = 0; i < main.length; i++) if (main.owner[i] !== NO_OWNER) live++;
        expect(live).toBe(listed);
      }),
      { numRuns: 200, seed: 6 },
    );
  });

  it('a thread that finds the columns grown only in part (another thread mid-growth) still sees and writes whole entries', () => {
    const main = NameList.create({ recordCount: 100_000, recordSize: 1024 });
    const other = NameList.attach(main.share);
    // The owner column grown by "another thread" that has not reached the other columns yet.
    main.share.entryBuffers[0]!.grow(1 << 20);
    expect(() => other.refreshViews()).not.toThrow();
    other.beginRecord();
    const i = other.reserve(3);
    other.owner[i] = 42;
    other.parent[i] = 9;
    other.times[i * 8 + 7] = 7;
    main.refreshViews();
    expect([main.owner[i], main.parent[i], main.times[i * 8 + 7]]).toEqual([42, 9, 7]);
  });

  it('room asked for in fractions (an estimate like records × 1.1) is rounded up, not grown forever', () => {
    const list = NameList.create({ recordCount: 1001, recordSize: 1024, expectEntries: 1001 * 1.1, expectChars: 1001 * 20.5 });
    expect(list.owner.length).toBeGreaterThanOrEqual(Math.ceil(1001 * 1.1));
    expect(list.chars.length).toBeGreaterThanOrEqual(Math.ceil(1001 * 20.5));
  });

  it('regrouping after extension entries move to their base keeps record order within the base', () => {
    const list = NameList.create({ recordCount: 10, recordSize: RECORD_SIZE });
    const add = (record: number, name: string): void => {
      list.beginRecord();
      const i = list.reserve(name.length);
      list.owner[i] = record;
      for (let c = 0; c < name.length; c++) list.chars[list.charStart[i]! + c] = name.charCodeAt(c);
    };
    add(2, 'ext-of-7');
    add(7, 'base');
    add(9, 'ext-of-7-late');
    add(8, 'other');
    const groups = new NameGroupBuilder(list, 10);
    groups.add(list.takeRanges());
    const byOriginal = groups.finish();
    // Record 8 was added after 9: out of record order, the builder sorts by owner.
    expect([...byOriginal.order].map((i) => list.owner[i])).toEqual([2, 7, 8, 9]);
    for (let k = 0; k < byOriginal.order.length; k++) {
      const i = byOriginal.order[k]!;
      if (list.owner[i] === 2 || list.owner[i] === 9) list.owner[i] = 7;
    }
    const merged = regroupByOwner(list, byOriginal.order, 10);
    const namesOf = (r: number): string[] => [...merged.order.subarray(merged.start[r], merged.start[r + 1])].map((i) => list.name(i));
    expect(namesOf(7)).toEqual(['ext-of-7', 'base', 'ext-of-7-late']);
    expect(namesOf(8)).toEqual(['other']);
    expect(namesOf(2)).toEqual([]);
  });
});

describe('growTo: a column shared by parse threads grows to what one thread needs', () => {
  const BPE = 4;
  const MAX = 1 << 20;
  /**
   * The shared buffer as one thread sees it while another grows it: right after this
   * thread's `readsBefore`-th look at its size, the other thread grows it to `otherSize`
   * (a grow it cannot shrink back from), as a parse worker claiming a block at that
   * moment would. Seen by the old code (size read once for the loop test, then again as
   * "before"), a growth after the second look made a big enough buffer an E_IO.
   */
  function contested(start: number, readsBefore: number, otherSize: number): { view: SharedArrayBuffer; real: SharedArrayBuffer } {
    const real = new SharedArrayBuffer(start, { maxByteLength: MAX * BPE });
    let reads = 0;
    const view = {
      get byteLength() {
        const size = real.byteLength;
        if (++reads === readsBefore && otherSize > size) real.grow(otherSize);
        return size;
      },
      grow(size: number) {
        real.grow(size);
      },
    } as unknown as SharedArrayBuffer;
    return { view, real };
  }

  it('ends big enough whenever another thread grows the buffer meanwhile, by whatever amount', () => {
    const needed = 70_000;
    for (let readsBefore = 1; readsBefore <= 4; readsBefore++) {
      for (const otherSize of [needed * BPE, (needed + 1) * BPE, 65536 * BPE, 2 * needed * BPE, MAX * BPE]) {
        const { view, real } = contested(4096, readsBefore, otherSize);
        growTo(view, BPE, needed, MAX);
        expect(real.byteLength, `growth after read ${readsBefore} to ${otherSize}`).toBeGreaterThanOrEqual(needed * BPE);
        expect(real.byteLength).toBeLessThanOrEqual(MAX * BPE);
      }
    }
  });

  it('grows by doubling up to the limit, and a grow that changes nothing is E_IO', () => {
    const real = new SharedArrayBuffer(4096, { maxByteLength: MAX * BPE });
    growTo(real, BPE, 10, MAX);
    expect(real.byteLength).toBe(4096);
    growTo(real, BPE, 2000, MAX);
    expect(real.byteLength).toBe(65536 * BPE);
    growTo(real, BPE, 65537, MAX);
    expect(real.byteLength).toBe(2 * 65536 * BPE);
    const stuck = { byteLength: 4096, grow() { throw new RangeError('out of memory'); } } as unknown as SharedArrayBuffer;
    let caught: unknown = null;
    try {
      growTo(stuck, BPE, 2000, MAX);
    } catch (error) {
      caught = error;
    }
    expect(isDiskkitError(caught) && caught.code).toBe('E_IO');
    const capped = new SharedArrayBuffer(4096, { maxByteLength: MAX * BPE });
    expect(() => growTo(capped, BPE, 2000, 512)).toThrow(/past/);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DiskkitError } from '../../src/engine/errors.js';
import { FreeSpace } from '../../src/engine/cartridge/free-space.js';

describe('free-space reuse rule (§8)', () => {
  it('a page freed by commit g is not reused in g, but is from g + 1 on', () => {
    const space = new FreeSpace({ pageCount: 100, generation: 5 });
    space.free(10, 4, 3); // born in 3, dropped by the running transaction 5
    expect(space.allocate(1)).toBe(100); // not 10: tree 4 (the fallback) still holds it
    space.beginTransaction(6);
    expect(space.allocate(4)).toBe(10);
  });

  it('a page written and dropped inside one transaction is reusable at once', () => {
    const space = new FreeSpace({ pageCount: 100, generation: 5 });
    const page = space.allocate(1);
    space.free(page, 1, 5);
    expect(space.allocate(1)).toBe(page);
  });

  it('a snapshot whose generation lies in [born, freed) pins the pages until it is deleted', () => {
    const space = new FreeSpace({ pageCount: 100, generation: 9, snapshotGenerations: [4] });
    space.free(20, 2, 3); // live in trees 3..8, snapshot 4 among them
    space.free(30, 2, 5); // live in trees 5..8: snapshot 4 predates it
    space.beginTransaction(10);
    expect(space.allocate(2)).toBe(30);
    expect(space.allocate(2)).toBe(100);
    space.setSnapshotGenerations([]); // snapshot deleted: no walk, the record is just reusable now
    expect(space.allocate(2)).toBe(20);
  });

  it('contiguous runs are first fit by address, else the end of the file', () => {
    const space = new FreeSpace({
      pageCount: 100,
      generation: 2,
      records: [
        { start: 10, length: 2, born: 0, freed: 0 },
        { start: 20, length: 8, born: 0, freed: 0 },
        { start: 40, length: 30, born: 0, freed: 0 },
      ],
    });
    expect(space.allocate(5)).toBe(20);
    expect(space.allocate(5)).toBe(40);
    expect(space.allocate(2)).toBe(10);
    expect(space.allocate(40)).toBe(100);
    expect(space.pageCount).toBe(140);
  });

  it('freeing a page twice, or outside the image, is corruption', () => {
    const space = new FreeSpace({ pageCount: 100, generation: 2 });
    space.free(10, 5, 1);
    expect(() => space.free(12, 1, 1)).toThrow(DiskkitError);
    expect(() => space.free(95, 10, 1)).toThrow(DiskkitError);
    expect(() => space.free(1, 1, 1)).toThrow(DiskkitError);
  });

  it('normalize turns settled records clean, merges them and gives the tail of the file back', () => {
    const space = new FreeSpace({ pageCount: 50, generation: 7, snapshotGenerations: [2] });
    space.free(10, 5, 3); // freed by 7
    space.free(15, 5, 4);
    space.free(40, 10, 1); // born 1, snapshot 2 pins it
    space.beginTransaction(8);
    space.normalize();
    expect(space.list()).toEqual([
      { start: 10, length: 10, born: 0, freed: 0 },
      { start: 40, length: 10, born: 1, freed: 7 },
    ]);
    expect(space.pageCount).toBe(50);
    space.setSnapshotGenerations([]);
    space.normalize();
    expect(space.list()).toEqual([{ start: 10, length: 10, born: 0, freed: 0 }]);
    expect(space.pageCount).toBe(40);
  });

  it('never hands out a page that a live object, the fallback tree or a snapshot still holds (random model)', () => {
    type Op = { kind: 'alloc'; count: number } | { kind: 'free'; pick: number } | { kind: 'commit' } | { kind: 'snapshot' } | { kind: 'dropSnapshot'; pick: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('alloc' as const), count: fc.integer({ min: 1, max: 6 }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'commit' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('dropSnapshot' as const), pick: fc.nat() }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        let t = 2;
        const space = new FreeSpace({ pageCount: 3, generation: t });
        // The model: for each page, the generations whose tree holds it: [born, freed).
        const live = new Map<number, { start: number; count: number; born: number }>();
        const dead: { start: number; count: number; born: number; freed: number }[] = [];
        let snapshots: number[] = [];
        for (const o of ops) {
          if (o.kind === 'alloc') {
            const start = space.allocate(o.count);
            for (let p = start; p < start + o.count; p++) {
              for (const object of live.values()) if (p >= object.start && p < object.start + object.count) return false;
              for (const d of dead) {
                if (p < d.start || p >= d.start + d.count) continue;
                if (d.freed === t && d.born !== t) return false; // the fallback tree t-1 holds it
                if (d.freed > t) return false;
                if (snapshots.some((s) => d.born <= s && s < d.freed)) return false;
              }
            }
            // Pages handed out are no longer dead in the model.
            for (let i = dead.length - 1; i >= 0; i--) {
              const d = dead[i]!;
              if (d.start < start + o.count && start < d.start + d.count) dead.splice(i, 1);
            }
            live.set(start, { start, count: o.count, born: t });
          } else if (o.kind === 'free' && live.size > 0) {
            const keys = [...live.keys()];
            const object = live.get(keys[o.pick % keys.length]!)!;
            live.delete(object.start);
            space.free(object.start, object.count, object.born);
            dead.push({ ...object, freed: t });
          } else if (o.kind === 'commit') {
            t++;
            space.beginTransaction(t);
            space.normalize();
          } else if (o.kind === 'snapshot') {
            snapshots = [...snapshots, t - 1];
            space.setSnapshotGenerations(snapshots);
          } else if (o.kind === 'dropSnapshot' && snapshots.length > 0) {
            snapshots = snapshots.filter((_, i) => i !== o.pick % snapshots.length);
            space.setSnapshotGenerations(snapshots);
          }
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});

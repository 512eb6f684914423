import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ArcCache } from '../../src/engine/cartridge/arc-cache.js';

/** Plain LRU of the same capacity, the baseline ARC must beat on a scan. */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  hits = 0;
  constructor(private readonly capacity: number) {}
  get(key: K): V | undefined {
    if (!this.map.has(key)) return undefined;
    const v = this.map.get(key)!;
    this.map.delete(key);
    this.map.set(key, v);
    this.hits++;
    return v;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }
}

describe('ARC cache', () => {
  it('never returns a value other than the last one set for that key, and keeps the list bounds of the paper', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 40 }), value: fc.integer() }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 400 }), (capacity, ops) => {
        const cache = new ArcCache<number, number>(capacity);
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            cache.set(o.key, o.value);
            model.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            cache.delete(o.key);
            model.delete(o.key);
          } else {
            const got = cache.get(o.key);
            if (got !== undefined && got !== model.get(o.key)) return false;
          }
          const s = cache.shape();
          if (s.t1 + s.t2 > capacity) return false;
          if (s.t1 + s.b1 > capacity) return false;
          if (s.t1 + s.t2 + s.b1 + s.b2 > 2 * capacity) return false;
          if (s.p < 0 || s.p > capacity) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a hot working set through a one-off scan that flushes an LRU of the same size', () => {
    const capacity = 100;
    const arc = new ArcCache<string, number>(capacity);
    const lru = new Lru<string, number>(capacity);
    const touch = (key: string) => {
      if (arc.get(key) === undefined) arc.set(key, 1);
      if (lru.get(key) === undefined) lru.set(key, 1);
    };
    const hot = Array.from({ length: 50 }, (_, i) => `hot${i}`);
    for (let round = 0; round < 3; round++) hot.forEach(touch);
    for (let i = 0; i < 1000; i++) touch(`scan${i}`); // e.g. ls -r of a large tree
    const arcBefore = arc.stats.hits;
    const lruBefore = lru.hits;
    hot.forEach(touch);
    expect(arc.stats.hits - arcBefore).toBe(50);
    expect(lru.hits - lruBefore).toBe(0);
  });

  it('a ghost hit in B1 grows the recency target p', () => {
    const arc = new ArcCache<number, number>(4);
    for (let i = 0; i < 4; i++) arc.set(i, i);
    arc.get(3); // 3 moves to T2, so T1 no longer fills the cache alone
    arc.set(4, 4); // evicts 0, the LRU of T1, into the ghost list B1
    expect(arc.has(0)).toBe(false);
    expect(arc.shape().b1).toBe(1);
    const pBefore = arc.shape().p;
    arc.set(0, 0);
    expect(arc.stats.ghostHits).toBe(1);
    expect(arc.shape().p).toBeGreaterThan(pBefore);
    expect(arc.get(0)).toBe(0);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new ArcCache(0)).toThrow();
    expect(() => new ArcCache(1.5)).toThrow();
  });
});

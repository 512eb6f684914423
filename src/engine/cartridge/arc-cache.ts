/**
 * Adaptive Replacement Cache (Megiddo & Modha, FAST 2003) for decoded pages: a recency
 * list T1 and a frequency list T2 of cached entries, and ghost lists B1/B2 of keys
 * recently evicted from each. A hit in a ghost list moves the target size `p` of T1, so
 * the cache learns whether recency or frequency pays; a one-off scan (ls -r of a big tree)
 * only churns T1 and cannot flush the hot pages in T2, which plain LRU would.
 */
export interface ArcStats {
  hits: number;
  misses: number;
  ghostHits: number;
  evictions: number;
}

export class ArcCache<K, V> {
  readonly capacity: number;
  /** Target size of T1 (0 ≤ p ≤ capacity). */
  private p = 0;
  // Maps keep insertion order: the first key is the LRU end, re-inserting makes it MRU.
  private readonly t1 = new Map<K, V>();
  private readonly t2 = new Map<K, V>();
  private readonly b1 = new Map<K, true>();
  private readonly b2 = new Map<K, true>();
  readonly stats: ArcStats = { hits: 0, misses: 0, ghostHits: 0, evictions: 0 };

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`ARC capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.t1.size + this.t2.size;
  }

  /** Sizes of the four lists and the target, for tests and `--stats`. */
  shape(): { t1: number; t2: number; b1: number; b2: number; p: number } {
    return { t1: this.t1.size, t2: this.t2.size, b1: this.b1.size, b2: this.b2.size, p: this.p };
  }

  /** A hit promotes the entry to T2's MRU end (it has now been used twice). */
  get(key: K): V | undefined {
    const inT1 = this.t1.get(key);
    if (inT1 !== undefined || this.t1.has(key)) {
      this.t1.delete(key);
      this.t2.set(key, inT1 as V);
      this.stats.hits++;
      return inT1;
    }
    if (this.t2.has(key)) {
      const value = this.t2.get(key) as V;
      this.t2.delete(key);
      this.t2.set(key, value);
      this.stats.hits++;
      return value;
    }
    this.stats.misses++;
    return undefined;
  }

  has(key: K): boolean {
    return this.t1.has(key) || this.t2.has(key);
  }

  /** Inserts after a miss (or updates in place). */
  set(key: K, value: V): void {
    const c = this.capacity;
    if (this.t1.has(key)) {
      this.t1.delete(key);
      this.t2.set(key, value);
      return;
    }
    if (this.t2.has(key)) {
      this.t2.delete(key);
      this.t2.set(key, value);
      return;
    }
    if (this.b1.has(key)) {
      // Recency was evicted too early: grow T1's target.
      this.stats.ghostHits++;
      this.p = Math.min(c, this.p + Math.max(this.b2.size / this.b1.size, 1));
      this.replace(false);
      this.b1.delete(key);
      this.t2.set(key, value);
      return;
    }
    if (this.b2.has(key)) {
      // Frequency was evicted too early: shrink T1's target.
      this.stats.ghostHits++;
      this.p = Math.max(0, this.p - Math.max(this.b1.size / this.b2.size, 1));
      this.replace(true);
      this.b2.delete(key);
      this.t2.set(key, value);
      return;
    }
    const l1 = this.t1.size + this.b1.size;
    if (l1 === c) {
      if (this.t1.size < c) {
        deleteOldest(this.b1);
        this.replace(false);
      } else {
        deleteOldest(this.t1);
        this.stats.evictions++;
      }
    } else {
      const total = l1 + this.t2.size + this.b2.size;
      if (total >= c) {
        if (total === 2 * c) deleteOldest(this.b2);
        this.replace(false);
      }
    }
    this.t1.set(key, value);
  }

  /** Drops a key from every list (its page was freed and may be rewritten). */
  delete(key: K): void {
    this.t1.delete(key);
    this.t2.delete(key);
    this.b1.delete(key);
    this.b2.delete(key);
  }

  clear(): void {
    this.t1.clear();
    this.t2.clear();
    this.b1.clear();
    this.b2.clear();
    this.p = 0;
  }

  /** Evicts one cached entry into its ghost list, only when the cache is full. */
  private replace(keyInB2: boolean): void {
    if (this.t1.size + this.t2.size < this.capacity) return;
    if (this.t1.size > 0 && (this.t1.size > this.p || (keyInB2 && this.t1.size === this.p))) {
      const key = deleteOldest(this.t1);
      this.b1.set(key, true);
    } else if (this.t2.size > 0) {
      const key = deleteOldest(this.t2);
      this.b2.set(key, true);
    } else {
      const key = deleteOldest(this.t1);
      this.b1.set(key, true);
    }
    this.stats.evictions++;
  }
}

function deleteOldest<K>(map: Map<K, unknown>): K {
  const key = map.keys().next().value as K;
  map.delete(key);
  return key;
}

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
  // Linked lists, not insertion-ordered Maps: V8 leaves a hole for each deleted Map entry
  // and iteration from the front skips them, so evicting "the first key" over and over
  // cost O(capacity) per miss (measured: 0.75 ms per lookup at 4096 entries).
  private readonly t1 = new LruList<K, V>();
  private readonly t2 = new LruList<K, V>();
  private readonly b1 = new LruList<K, true>();
  private readonly b2 = new LruList<K, true>();
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
    if (this.t1.has(key)) {
      const value = this.t1.delete(key) as V;
      this.t2.set(key, value);
      this.stats.hits++;
      return value;
    }
    const node = this.t2.node(key);
    if (node) {
      this.t2.moveToNewest(node);
      this.stats.hits++;
      return node.value;
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
        this.b1.popOldest();
        this.replace(false);
      } else {
        this.t1.popOldest();
        this.stats.evictions++;
      }
    } else {
      const total = l1 + this.t2.size + this.b2.size;
      if (total >= c) {
        if (total === 2 * c) this.b2.popOldest();
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
      this.b1.set(this.t1.popOldest(), true);
    } else if (this.t2.size > 0) {
      this.b2.set(this.t2.popOldest(), true);
    } else {
      this.b1.set(this.t1.popOldest(), true);
    }
    this.stats.evictions++;
  }
}

interface ListNode<K, V> {
  key: K;
  value: V;
  older: ListNode<K, V> | null;
  newer: ListNode<K, V> | null;
}

/** A recency list: O(1) lookup, move to the newest end, and removal of the oldest. */
class LruList<K, V> {
  private readonly index = new Map<K, ListNode<K, V>>();
  private oldest: ListNode<K, V> | null = null;
  private newest: ListNode<K, V> | null = null;

  get size(): number {
    return this.index.size;
  }

  has(key: K): boolean {
    return this.index.has(key);
  }

  node(key: K): ListNode<K, V> | undefined {
    return this.index.get(key);
  }

  /** Relinks an entry at the newest end without allocating (the hot path of a cache hit). */
  moveToNewest(node: ListNode<K, V>): void {
    if (this.newest === node) return;
    if (node.older) node.older.newer = node.newer;
    else this.oldest = node.newer;
    node.newer!.older = node.older;
    node.older = this.newest;
    node.newer = null;
    this.newest!.newer = node;
    this.newest = node;
  }

  /** Adds or replaces `key` at the newest end. */
  set(key: K, value: V): void {
    const existing = this.index.get(key);
    if (existing) {
      existing.value = value;
      this.moveToNewest(existing);
      return;
    }
    const node: ListNode<K, V> = { key, value, older: this.newest, newer: null };
    if (this.newest) this.newest.newer = node;
    else this.oldest = node;
    this.newest = node;
    this.index.set(key, node);
  }

  /** Removes `key`; returns its value (undefined when absent). */
  delete(key: K): V | undefined {
    const node = this.index.get(key);
    if (!node) return undefined;
    this.index.delete(key);
    if (node.older) node.older.newer = node.newer;
    else this.oldest = node.newer;
    if (node.newer) node.newer.older = node.older;
    else this.newest = node.older;
    return node.value;
  }

  popOldest(): K {
    const node = this.oldest;
    if (!node) throw new Error('popOldest on an empty list');
    this.delete(node.key);
    return node.key;
  }

  clear(): void {
    this.index.clear();
    this.oldest = null;
    this.newest = null;
  }
}

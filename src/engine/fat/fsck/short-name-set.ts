/**
 * The short names seen so far in one directory, for the duplicate check: an
 * open-addressing hash table over copies of the 11 raw bytes, so a directory of
 * 65,536 entries costs no string per entry. Reused from one directory to the next.
 */
const NAME_BYTES = 11;

export class ShortNameSet {
  private table = new Int32Array(64).fill(-1);
  private mask = 63;
  private store = new Uint8Array(NAME_BYTES * 32);
  private count = 0;

  /** Empties the set, sized for about `expected` names. */
  reset(expected: number): void {
    let size = 64;
    while (size < expected * 2) size *= 2;
    if (size !== this.table.length) this.table = new Int32Array(size);
    this.table.fill(-1);
    this.mask = size - 1;
    this.count = 0;
  }

  private hash(bytes: Uint8Array, at: number): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < NAME_BYTES; i++) h = Math.imul(h ^ bytes[at + i]!, 0x01000193);
    return (h ^ (h >>> 15)) & this.mask;
  }

  private same(index: number, bytes: Uint8Array, at: number): boolean {
    const base = index * NAME_BYTES;
    for (let i = 0; i < NAME_BYTES; i++) if (this.store[base + i] !== bytes[at + i]) return false;
    return true;
  }

  has(bytes: Uint8Array, at = 0): boolean {
    for (let h = this.hash(bytes, at); ; h = (h + 1) & this.mask) {
      const v = this.table[h]!;
      if (v === -1) return false;
      if (this.same(v, bytes, at)) return true;
    }
  }

  /** Adds the name at `at` of `bytes` unless it is there; true when it was added. One hash for both. */
  addIfAbsent(bytes: Uint8Array, at = 0): boolean {
    let h = this.hash(bytes, at);
    for (; ; h = (h + 1) & this.mask) {
      const v = this.table[h]!;
      if (v === -1) break;
      if (this.same(v, bytes, at)) return false;
    }
    if ((this.count + 1) * 2 > this.table.length) {
      this.add(bytes, at);
      return true;
    }
    this.copyIn(bytes, at);
    this.table[h] = this.count++;
    return true;
  }

  private copyIn(bytes: Uint8Array, at: number): void {
    if ((this.count + 1) * NAME_BYTES > this.store.length) {
      const grown = new Uint8Array(this.store.length * 2);
      grown.set(this.store);
      this.store = grown;
    }
    const base = this.count * NAME_BYTES;
    for (let i = 0; i < NAME_BYTES; i++) this.store[base + i] = bytes[at + i]!;
  }

  /** Adds the name at `at` of `bytes` (the caller checked `has` first). */
  add(bytes: Uint8Array, at = 0): void {
    if ((this.count + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    this.copyIn(bytes, at);
    let h = this.hash(bytes, at);
    while (this.table[h] !== -1) h = (h + 1) & this.mask;
    this.table[h] = this.count++;
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (let i = 0; i < this.count; i++) {
      let h = this.hash(this.store, i * NAME_BYTES);
      while (this.table[h] !== -1) h = (h + 1) & this.mask;
      this.table[h] = i;
    }
  }
}

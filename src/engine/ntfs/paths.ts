/**
 * Full paths from parent references (edge cases 10 and 11). The root is record 5.
 * A parent counts only when it is a trusted, in-use directory base record whose
 * sequence number matches the reference — otherwise the parent record was reused
 * and the child is an orphan, listed under `/$Orphan/`. Resolution is iterative and
 * cycle-safe (self-parents, loops), and paths longer than NTFS allows are cut off
 * into the orphan bucket, so hostile tables cannot hang it or exhaust memory.
 * Directory paths are computed once and cached as UTF-16 units; file paths are
 * their directory's cached prefix plus their name, written straight to the output.
 */
import { RecordFlag, RecordStatus, ROOT_RECORD } from './mft-record.js';
import { FileNamespace } from './attributes/x30-file-name.js';
import type { RecordTable } from './record-table.js';
import { stringFromUnits, type NameList } from './name-list.js';
import type { NameIndex } from './name-groups.js';

export const ORPHAN_DIR = '/$Orphan';
/** NTFS paths are limited to 32,767 UTF-16 units; longer chains are treated as broken. */
export const MAX_PATH_UNITS = 32767;

export function isInUse(table: RecordTable, r: number): boolean {
  return (table.flags[r]! & RecordFlag.IN_USE) !== 0;
}

/** A PathResolver's resolved state (PathResolver.snapshot), posted to a format worker. */
export interface PathSnapshot {
  slotOf: Int32Array;
  slots: number;
  linkOf: Int32Array<ArrayBuffer>;
  nameOfSlot: Int32Array<ArrayBuffer>;
  unitsOf: Uint32Array<ArrayBuffer>;
  orphanOf: Uint8Array<ArrayBuffer>;
  poolStartOf: Uint32Array<ArrayBuffer>;
  pool: Uint16Array<ArrayBuffer>;
}

/** Link values of a resolved directory (otherwise the parent directory's record). */
const UNRESOLVED = -2;
const ORPHAN_ROOT = -1;
const NOT_POOLED = 0xffffffff;
/**
 * Directory paths are cached as UTF-16 units in one pool; past this many units
 * (hostile or enormous trees) further paths are rebuilt from the parent chain on
 * demand instead, so memory stays bounded.
 */
export const MAX_PATH_POOL_UNITS = 1 << 24;
const ORPHAN_UNITS = Array.from(ORPHAN_DIR, (c) => c.charCodeAt(0));

/**
 * Directory paths through the parent chain. Each resolved directory keeps, in typed
 * arrays sized by the record count, the directory its path hangs from (or "orphan
 * root"), the name giving its path, the path's length and whether it lies under
 * `/$Orphan`; the path itself is cached once per directory in a shared unit pool.
 * A file's path is then its directory's cached prefix + '/' + its name: no string
 * or object per file.
 */
export class PathResolver {
  /**
   * Per-directory state lives in dense slots (directories are a small share of the
   * records): slotOf[r] is record r's slot, -1 until it is resolved.
   */
  private readonly slotOf: Int32Array;
  private slots = 0;
  /** Parent directory record of a resolved directory, or ORPHAN_ROOT. */
  private linkOf = new Int32Array(1024);
  private nameOfSlot = new Int32Array(1024);
  private unitsOf = new Uint32Array(1024);
  private orphanOf = new Uint8Array(1024);
  private poolStartOf = new Uint32Array(1024);
  private pool = new Uint16Array(1 << 16);
  private poolUsed = 0;
  private scratch = new Uint16Array(1 << 16);
  /** Parent chains that looped back on themselves, by the record that closed the loop. */
  readonly cycles: number[] = [];
  /** Where the last `dirUnits` result lies: units[start..end). */
  units: Uint16Array = this.pool;
  start = 0;
  end = 0;

  constructor(
    private readonly table: RecordTable,
    private readonly names: NameList,
    private readonly byOwner: NameIndex,
    /** Units of directory paths cached at most (MAX_PATH_POOL_UNITS unless a test asks for less). */
    private readonly poolLimit = MAX_PATH_POOL_UNITS,
    /** Slots of records resolved already (fromSnapshot), taken over as they are. */
    slotOf?: Int32Array,
  ) {
    this.slotOf = slotOf ?? new Int32Array(table.count).fill(-1);
  }

  /** The resolved state (a structured-clone copy is small: directories only, plus slotOf), for a format worker. */
  snapshot(): PathSnapshot {
    const n = this.slots;
    return {
      slotOf: this.slotOf,
      slots: n,
      linkOf: this.linkOf.slice(0, n),
      nameOfSlot: this.nameOfSlot.slice(0, n),
      unitsOf: this.unitsOf.slice(0, n),
      orphanOf: this.orphanOf.slice(0, n),
      poolStartOf: this.poolStartOf.slice(0, n),
      pool: this.pool.slice(0, this.poolUsed),
    };
  }

  /**
   * A resolver continuing from another thread's snapshot (a private copy: its slotOf
   * is taken over). Paths come out the same as on that thread: buildIndex resolved
   * every directory with a name before the snapshot, so loops were cut there, and
   * what is left (nameless parents) becomes an orphan in any order.
   */
  static fromSnapshot(table: RecordTable, names: NameList, byOwner: NameIndex, snap: PathSnapshot, poolLimit = MAX_PATH_POOL_UNITS): PathResolver {
    const p = new PathResolver(table, names, byOwner, poolLimit, snap.slotOf);
    const grow = <T extends Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Uint8Array<ArrayBuffer> | Uint16Array<ArrayBuffer>>(a: T, min: number): T => {
      const b = new (a.constructor as new (n: number) => T)(Math.max(1024, min * 2));
      b.set(a as never);
      return b;
    };
    p.slots = snap.slots;
    p.linkOf = grow(snap.linkOf, snap.slots);
    p.nameOfSlot = grow(snap.nameOfSlot, snap.slots);
    p.unitsOf = grow(snap.unitsOf, snap.slots);
    p.orphanOf = grow(snap.orphanOf, snap.slots);
    p.poolStartOf = grow(snap.poolStartOf, snap.slots);
    p.pool = grow(snap.pool, snap.pool.length);
    p.poolUsed = snap.pool.length;
    return p;
  }

  /** Gives record r a slot (once); returns it. */
  private slotFor(r: number): number {
    let s = this.slotOf[r]!;
    if (s >= 0) return s;
    s = this.slots++;
    if (s === this.linkOf.length) {
      const grow = <T extends Int32Array | Uint32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a as never);
        return b;
      };
      this.linkOf = grow(this.linkOf);
      this.nameOfSlot = grow(this.nameOfSlot);
      this.unitsOf = grow(this.unitsOf);
      this.orphanOf = grow(this.orphanOf);
      this.poolStartOf = grow(this.poolStartOf);
    }
    this.slotOf[r] = s;
    this.poolStartOf[s] = NOT_POOLED;
    return s;
  }

  /** Resolved link of record r (parent directory or ORPHAN_ROOT), UNRESOLVED when not yet resolved. */
  private link(r: number): number {
    const s = this.slotOf[r]!;
    return s < 0 ? UNRESOLVED : this.linkOf[s]!;
  }

  /** The name that gives a directory its path: the first non-DOS name, else the first name. -1 when it has none. */
  primaryName(r: number): number {
    const { start, order } = this.byOwner;
    let fallback = -1;
    for (let k = start[r]!; k < start[r + 1]!; k++) {
      const i = order[k]!;
      if (this.names.namespace[i] !== FileNamespace.DOS) return i;
      if (fallback < 0) fallback = i;
    }
    return fallback;
  }

  /**
   * True when `parent` (with the reference's sequence) is a usable parent for a name
   * of `child`. A deleted child may hang under a deleted parent whose sequence was
   * bumped once when it was freed.
   */
  parentOk(child: number, parent: number, parentSequence: number): boolean {
    const t = this.table;
    if (parent >= t.count || parent === child && child !== ROOT_RECORD) return false;
    if (t.status[parent] !== RecordStatus.OK || (t.flags[parent]! & RecordFlag.DIRECTORY) === 0 || t.baseRecord[parent] !== 0) return false;
    const seq = t.sequence[parent]!;
    if (isInUse(t, parent)) return seq === parentSequence;
    if (isInUse(t, child)) return false;
    return seq === parentSequence || seq === ((parentSequence + 1) & 0xffff);
  }

  /** Whether resolving `r`'s directory path ended in the orphan bucket. */
  isOrphanRoot(r: number): boolean {
    return this.link(r) === ORPHAN_ROOT;
  }

  /** Whether directory `r`'s path lies under `/$Orphan`. */
  isOrphanDir(r: number): boolean {
    if (r === ROOT_RECORD) return false;
    this.resolve(r);
    return this.orphanOf[this.slotOf[r]!] === 1;
  }

  /** Works out directory `r`'s path (parent chain, loops cut, overlong paths orphaned) once. */
  resolve(r: number): void {
    if (r === ROOT_RECORD || this.slotOf[r]! >= 0) return;
    // Walk up until a known path, the root, or a broken link; then unwind.
    const stack: number[] = [];
    const onStack = new Set<number>();
    let cur = r;
    for (;;) {
      if (cur === ROOT_RECORD || this.slotOf[cur]! >= 0) break;
      if (onStack.has(cur)) {
        // A loop: cut it where it closed; the record seen twice becomes an orphan root.
        this.cycles.push(cur);
        while (stack.length > 0 && stack[stack.length - 1] !== cur) stack.pop();
        stack.pop();
        this.orphan(cur);
        break;
      }
      const i = this.primaryName(cur);
      if (i < 0 || !this.parentOk(cur, this.names.parent[i]!, this.names.parentSequence[i]!)) {
        this.orphan(cur);
        break;
      }
      stack.push(cur);
      onStack.add(cur);
      cur = this.names.parent[i]!;
    }
    let base = cur;
    while (stack.length > 0) {
      const d = stack.pop()!;
      const i = this.primaryName(d);
      const baseSlot = base === ROOT_RECORD ? -1 : this.slotOf[base]!;
      const units = (baseSlot < 0 ? 0 : this.unitsOf[baseSlot]!) + 1 + this.names.charLength[i]!;
      if (units > MAX_PATH_UNITS) this.orphan(d);
      else {
        const s = this.slotFor(d);
        this.linkOf[s] = base;
        this.nameOfSlot[s] = i;
        this.unitsOf[s] = units;
        this.orphanOf[s] = baseSlot < 0 ? 0 : this.orphanOf[baseSlot]!;
        this.pool_(d, base);
      }
      base = d;
    }
  }

  private orphan(r: number): void {
    const i = this.primaryName(r);
    const s = this.slotFor(r);
    this.linkOf[s] = ORPHAN_ROOT;
    this.nameOfSlot[s] = i;
    this.orphanOf[s] = 1;
    this.unitsOf[s] = ORPHAN_UNITS.length + 1 + (i < 0 ? `$Record${r}`.length : this.names.charLength[i]!);
    this.pool_(r, ORPHAN_ROOT);
  }

  /** Caches directory d's path in the pool when its base is cached and room is left. */
  private pool_(d: number, base: number): void {
    const units = this.unitsOf[this.slotOf[d]!]!;
    if (base >= 0 && base !== ROOT_RECORD && this.poolStartOf[this.slotOf[base]!] === NOT_POOLED) return;
    if (this.poolUsed + units > this.poolLimit) return;
    if (this.poolUsed + units > this.pool.length) {
      const grown = new Uint16Array(Math.min(this.poolLimit, Math.max(this.pool.length * 2, this.poolUsed + units)));
      grown.set(this.pool.subarray(0, this.poolUsed));
      this.pool = grown;
    }
    const at = this.poolUsed;
    const end = this.writeLast(d, base, this.pool, at);
    this.poolStartOf[this.slotOf[d]!] = at;
    this.poolUsed = end;
  }

  /** Writes d's path at `to[at..]` given its base's path (pooled, root or orphan bucket); returns the end. */
  private writeLast(d: number, base: number, to: Uint16Array, at: number): number {
    if (base === ORPHAN_ROOT) {
      for (const c of ORPHAN_UNITS) to[at++] = c;
    } else if (base !== ROOT_RECORD) {
      const bs = this.slotOf[base]!;
      const from = this.poolStartOf[bs]!;
      to.copyWithin(at, from, from + this.unitsOf[bs]!);
      at += this.unitsOf[bs]!;
    }
    return this.writeName(d, to, at);
  }

  private writeName(d: number, to: Uint16Array, at: number): number {
    to[at++] = 0x2f;
    const i = this.nameOfSlot[this.slotOf[d]!]!;
    if (i < 0) {
      const s = `$Record${d}`;
      for (let k = 0; k < s.length; k++) to[at++] = s.charCodeAt(k);
      return at;
    }
    const cs = this.names.charStart[i]!;
    const n = this.names.charLength[i]!;
    to.set(this.names.chars.subarray(cs, cs + n), at);
    return at + n;
  }

  /**
   * Points `units[start..end)` at directory r's path (empty for the root): the
   * cached copy, or one rebuilt from the parent chain when the pool is full.
   */
  dirUnits(r: number): void {
    if (r === ROOT_RECORD) {
      this.units = this.pool;
      this.start = this.end = 0;
      return;
    }
    this.resolve(r);
    const slot = this.slotOf[r]!;
    const at = this.poolStartOf[slot]!;
    if (at !== NOT_POOLED) {
      this.units = this.pool;
      this.start = at;
      this.end = at + this.unitsOf[slot]!;
      return;
    }
    const chain: number[] = [];
    for (let d = r; d !== ROOT_RECORD && d !== ORPHAN_ROOT; d = this.link(d)) chain.push(d);
    let end = 0;
    const top = chain[chain.length - 1]!;
    if (this.link(top) === ORPHAN_ROOT) for (const c of ORPHAN_UNITS) this.scratch[end++] = c;
    for (let k = chain.length - 1; k >= 0; k--) end = this.writeName(chain[k]!, this.scratch, end);
    this.units = this.scratch;
    this.start = 0;
    this.end = end;
  }

  /** Path of directory `r` ('' for the root, so children are '' + '/' + name). */
  dirPath(r: number): string {
    this.dirUnits(r);
    return stringFromUnits(this.units, this.start, this.end);
  }

  /** Path of the parent directory for name `i` of record `r`: '' for the root, `/$Orphan` when the parent is unusable. */
  parentPath(r: number, i: number): { path: string; orphan: boolean } {
    const parent = this.names.parent[i]!;
    if (!this.parentOk(r, parent, this.names.parentSequence[i]!)) return { path: ORPHAN_DIR, orphan: true };
    return { path: this.dirPath(parent), orphan: false };
  }
}

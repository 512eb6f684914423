/**
 * Full paths from parent references (edge cases 10 and 11). The root is record 5.
 * A parent counts only when it is a trusted, in-use directory base record whose
 * sequence number matches the reference — otherwise the parent record was reused
 * and the child is an orphan, listed under `/$Orphan/`. Resolution is iterative and
 * cycle-safe (self-parents, loops), and paths longer than NTFS allows are cut off
 * into the orphan bucket, so hostile tables cannot hang it or exhaust memory.
 * Directory paths are computed once and cached; file paths are built on output.
 */
import { RecordFlag, RecordStatus, ROOT_RECORD } from './mft-record.js';
import { FileNamespace } from './attributes/x30-file-name.js';
import type { NameList, RecordTable } from './record-table.js';

export const ORPHAN_DIR = '/$Orphan';
/** NTFS paths are limited to 32,767 UTF-16 units; longer chains are treated as broken. */
export const MAX_PATH_UNITS = 32767;

export interface NameIndex {
  /** names.owner-ordered CSR: the names of record r are order[start[r] .. start[r+1]). */
  start: Uint32Array;
  order: Uint32Array;
}

/** Groups list entries by owner record, keeping list order within a record. */
export function groupByOwner(list: NameList, recordCount: number): NameIndex {
  const start = new Uint32Array(recordCount + 1);
  const n = list.length;
  for (let i = 0; i < n; i++) {
    const o = list.owner[i]!;
    if (o < recordCount) start[o + 1]!++;
  }
  for (let r = 0; r < recordCount; r++) start[r + 1]! += start[r]!;
  const fill = start.slice(0, recordCount);
  const order = new Uint32Array(start[recordCount]!);
  for (let i = 0; i < n; i++) {
    const o = list.owner[i]!;
    if (o < recordCount) order[fill[o]!++] = i;
  }
  return { start, order };
}

export function isInUse(table: RecordTable, r: number): boolean {
  return (table.flags[r]! & RecordFlag.IN_USE) !== 0;
}

export class PathResolver {
  private readonly dirPaths = new Map<number, string>();
  private readonly orphanRoots = new Set<number>();
  /** Parent chains that looped back on themselves, by the record that closed the loop. */
  readonly cycles: number[] = [];

  constructor(
    private readonly table: RecordTable,
    private readonly names: NameList,
    private readonly byOwner: NameIndex,
  ) {}

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
    return this.orphanRoots.has(r);
  }

  /** Path of directory `r` ('' for the root, so children are '' + '/' + name). */
  dirPath(r: number): string {
    if (r === ROOT_RECORD) return '';
    const cached = this.dirPaths.get(r);
    if (cached !== undefined) return cached;
    // Walk up until a known path, the root, or a broken link; then unwind.
    const stack: number[] = [];
    const onStack = new Set<number>();
    let cur = r;
    let base: string;
    for (;;) {
      if (cur === ROOT_RECORD) {
        base = '';
        break;
      }
      const known = this.dirPaths.get(cur);
      if (known !== undefined) {
        base = known;
        break;
      }
      if (onStack.has(cur)) {
        // A loop: cut it where it closed; the record seen twice becomes an orphan root.
        this.cycles.push(cur);
        while (stack.length > 0 && stack[stack.length - 1] !== cur) stack.pop();
        stack.pop();
        base = this.orphan(cur);
        break;
      }
      const i = this.primaryName(cur);
      if (i < 0 || !this.parentOk(cur, this.names.parent[i]!, this.names.parentSequence[i]!)) {
        base = this.orphan(cur);
        break;
      }
      stack.push(cur);
      onStack.add(cur);
      cur = this.names.parent[i]!;
    }
    while (stack.length > 0) {
      const d = stack.pop()!;
      const i = this.primaryName(d);
      let path = base + '/' + this.names.name(i);
      if (path.length > MAX_PATH_UNITS) path = this.orphan(d);
      this.dirPaths.set(d, path);
      base = path;
    }
    return this.dirPaths.get(r)!;
  }

  private orphan(r: number): string {
    const i = this.primaryName(r);
    const path = ORPHAN_DIR + '/' + (i < 0 ? `$Record${r}` : this.names.name(i));
    this.orphanRoots.add(r);
    this.dirPaths.set(r, path);
    return path;
  }

  /** Path of the parent directory for name `i` of record `r`: '' for the root, `/$Orphan` when the parent is unusable. */
  parentPath(r: number, i: number): { path: string; orphan: boolean } {
    const parent = this.names.parent[i]!;
    if (!this.parentOk(r, parent, this.names.parentSequence[i]!)) return { path: ORPHAN_DIR, orphan: true };
    return { path: this.dirPath(parent), orphan: false };
  }
}

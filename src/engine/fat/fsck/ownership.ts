/**
 * Cluster ownership over the whole tree: one Uint32Array entry per cluster naming its
 * owner (0 = nobody), and a compact struct-of-arrays table of the owners (entries
 * with a start cluster, the root, lost chains). Memory is 4 bytes per cluster plus
 * about 40 bytes per owner, so a million-file image stays in tens of MiB.
 */
import { joinPath } from '../../volume-path.js';

export const OwnerKind = { FILE: 0, DIR: 1, ROOT: 2, LOST: 3 } as const;
export type OwnerKindValue = (typeof OwnerKind)[keyof typeof OwnerKind];

export class Owners {
  /** owner[cluster] = owner id, 0 when no chain reached the cluster. */
  readonly owner: Uint32Array;
  private capacity = 1024;
  /** Number of ids handed out plus one (id 0 is "nobody"). */
  count = 1;
  /** Clusters some owner holds whose FAT entry is allocated (not free, not bad): equal to the allocated count when nothing is lost. */
  allocatedOwned = 0;
  kind = new Uint8Array(this.capacity);
  /** Byte position in the image of the owner's short entry (-1 for the root and lost chains). */
  entryPos = new Float64Array(this.capacity);
  start = new Uint32Array(this.capacity);
  size = new Float64Array(this.capacity);
  /** Owner id of the directory holding the entry (0 for the root and lost chains). */
  parent = new Uint32Array(this.capacity);
  /** Clusters the owner holds (after the walk). */
  clusters = new Uint32Array(this.capacity);
  /** Full paths of directories (few; files keep no name: `resolveName` finds it when a message needs it). */
  private readonly dirPaths = new Map<number, string>();
  /** Name of a file owner, read again from its directory on demand. */
  resolveName: (id: number) => string = (id) => `<entry ${id}>`;

  constructor(maxCluster: number) {
    this.owner = new Uint32Array(maxCluster + 1);
  }

  /** Adds an owner; `name` is needed for directories only. */
  add(kind: OwnerKindValue, name: string | null, parent: number, entryPos: number, start: number, size: number): number {
    if (this.count === this.capacity) this.grow();
    const id = this.count++;
    this.kind[id] = kind;
    this.entryPos[id] = entryPos;
    this.start[id] = start;
    this.size[id] = size;
    this.parent[id] = parent;
    if (kind === OwnerKind.DIR || kind === OwnerKind.ROOT) this.dirPaths.set(id, kind === OwnerKind.ROOT ? '/' : joinPath(this.pathOf(parent), name ?? '?'));
    return id;
  }

  /** Absolute path of an owner (lost chains are named "<lost chain at N>"). */
  pathOf(id: number): string {
    if (id === 0) return '/';
    const dir = this.dirPaths.get(id);
    if (dir !== undefined) return dir;
    if (this.kind[id] === OwnerKind.LOST) return `<lost chain at cluster ${this.start[id]}>`;
    return joinPath(this.pathOf(this.parent[id]!), this.resolveName(id));
  }

  private grow(): void {
    this.capacity *= 2;
    const g = <T extends Uint8Array | Uint32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(this.capacity);
      b.set(a);
      return b;
    };
    this.kind = g(this.kind);
    this.entryPos = g(this.entryPos);
    this.start = g(this.start);
    this.size = g(this.size);
    this.parent = g(this.parent);
    this.clusters = g(this.clusters);
  }
}

export { joinPath };

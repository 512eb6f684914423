/**
 * fsck's view of packs (docs/cartridge-format.md §7.5, §11 I8): while the catalog is
 * walked it records each pack's links and length and each packed file's range, then says
 * which files name a missing pack or lie outside it, and which packs' links are wrong.
 */
export interface PackProblem {
  /** The file's inode id, when the problem is one file's. */
  file?: number;
  message: string;
}

export class PackTally {
  private readonly packs = new Map<number, { links: number; length: number; named: number }>();
  private readonly files: { id: number; packId: number; offset: number; size: number }[] = [];

  get count(): number {
    return this.packs.size;
  }

  pack(id: number, links: number, length: number): void {
    this.packs.set(id, { links, length, named: 0 });
  }

  file(id: number, packId: number, offset: number, size: number): void {
    this.files.push({ id, packId, offset, size });
  }

  problems(): PackProblem[] {
    const out: PackProblem[] = [];
    for (const f of this.files) {
      const pack = this.packs.get(f.packId);
      if (!pack) {
        out.push({ file: f.id, message: `names pack ${f.packId}, which the catalog does not hold` });
        continue;
      }
      pack.named++;
      if (f.offset + f.size > pack.length) out.push({ file: f.id, message: `${f.size} bytes at ${f.offset} lie past the end of pack ${f.packId} (${pack.length} bytes)` });
    }
    for (const [id, pack] of this.packs) {
      if (pack.links !== pack.named) out.push({ message: `pack ${id} says ${pack.links} files name it, ${pack.named} do` });
    }
    return out;
  }
}

/**
 * The mdir-style parts of `ls`: wide output (-w: names in columns, directories in
 * [brackets], as `mdir -w`), bare output (-b: one full path per line, as `mdir -b`),
 * and the summary (-s, and always with -w) mdir ends a listing with:
 * "N files, M bytes" per directory and the free space. mdir counts every entry shown
 * (directories, and "." and ".." when they are shown) as a file, and adds up the
 * file sizes; ls counts the same way.
 */
import type { WalkEntry } from '../engine/volume.js';
import { escapeName } from './context.js';
import type { ByteWriter } from './stdout-writer.js';

export interface ExtrasMode {
  wide: boolean;
  bare: boolean;
  summary: boolean;
  recursive: boolean;
}

/** "1 file", "2 files". */
function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The terminal's width, 80 when stdout is not a terminal or says 0 columns. */
export function outputColumns(): number {
  const columns = process.stdout.isTTY ? process.stdout.columns : 0;
  return columns && columns > 0 ? columns : 80;
}

export class ListingExtras {
  private names: string[] = [];
  private files = 0;
  private bytes = 0;
  private totalFiles = 0;
  private totalBytes = 0;
  private directories = 0;
  private open = false;
  private dirPath = '/';

  constructor(
    private readonly out: ByteWriter,
    private readonly mode: ExtrasMode,
    private readonly width = outputColumns(),
  ) {}

  /** A new directory starts: what is pending for the last one is written first. */
  directory(path: string): void {
    this.endDirectory();
    this.open = true;
    this.directories++;
    this.dirPath = path;
  }

  /** Counts an entry; returns true when it was printed here (wide or bare) rather than by ls. */
  entry(e: WalkEntry): boolean {
    this.files++;
    if (e.type === 'file') this.bytes += e.size;
    if (this.mode.bare) {
      this.out.escapedText(e.parent === '/' ? `/${e.name}` : `${e.parent}/${e.name}`, escapeName);
      // mdir -b marks directories with a trailing slash too.
      if (e.type === 'dir') this.out.byte(0x2f);
      this.out.byte(0x0a);
      return true;
    }
    if (this.mode.wide) {
      const name = escapeName(e.name);
      this.names.push(e.type === 'dir' ? `[${name}]` : name);
      return true;
    }
    return false;
  }

  /** Ends the listing: the last directory's rows, then the totals and the free space. */
  finish(freeBytes: number | null): void {
    this.endDirectory();
    if (!this.mode.summary || this.mode.bare) return;
    const free = freeBytes === null ? '' : `, ${freeBytes} bytes free`;
    if (this.mode.recursive && this.directories > 1) this.out.ascii(`Total: ${count(this.totalFiles, 'file', 'files')}, ${count(this.totalBytes, 'byte', 'bytes')}${free}\n`);
    else if (freeBytes !== null) this.out.ascii(`${freeBytes} bytes free\n`);
  }

  private endDirectory(): void {
    if (!this.open) return;
    this.open = false;
    if (this.mode.wide) this.writeColumns();
    if (this.mode.summary && !this.mode.bare) this.out.ascii(`${count(this.files, 'file', 'files')}, ${count(this.bytes, 'byte', 'bytes')}\n`);
    this.totalFiles += this.files;
    this.totalBytes += this.bytes;
    this.files = 0;
    this.bytes = 0;
  }

  /** Names in rows, each column as wide as the longest name plus two spaces. */
  private writeColumns(): void {
    if (this.names.length === 0) return;
    const cell = Math.max(...this.names.map((n) => [...n].length)) + 2;
    const perRow = Math.max(1, Math.floor(this.width / cell));
    for (let i = 0; i < this.names.length; i += perRow) {
      const row = this.names.slice(i, i + perRow);
      this.out.escapedText(row.map((n, j) => (j === row.length - 1 ? n : n + ' '.repeat(cell - [...n].length))).join(''), (s) => s);
      this.out.byte(0x0a);
    }
    this.names = [];
  }
}

/**
 * A run of consecutive pages held in memory: the pager's write-combining buffer (pages
 * waiting to go out in one pwrite) and its read-ahead window (pages fetched in one
 * pread). Positions are page numbers; the buffer never grows past its capacity.
 */
export class PageRunBuffer {
  readonly bytes: Uint8Array;
  readonly pageSize: number;
  /** First page of the run. */
  start = 0;
  /** Pages held. */
  pages = 0;

  constructor(pageSize: number, capacityBytes: number) {
    this.pageSize = pageSize;
    this.bytes = new Uint8Array(Math.max(pageSize, Math.floor(capacityBytes / pageSize) * pageSize));
  }

  get capacityPages(): number {
    return this.bytes.length / this.pageSize;
  }

  reset(start: number, pages: number): void {
    this.start = start;
    this.pages = pages;
  }

  /** Does [address, address + count) share a page with the run? */
  overlaps(address: number, count: number): boolean {
    return this.pages > 0 && address < this.start + this.pages && address + count > this.start;
  }

  /** Is [address, address + count) wholly inside the run? */
  contains(address: number, count: number): boolean {
    return address >= this.start && address + count <= this.start + this.pages;
  }

  /** Can `count` pages at `address` extend the run (they follow it directly and fit)? */
  appendable(address: number, count: number): boolean {
    return this.pages > 0 && address === this.start + this.pages && this.pages + count <= this.capacityPages;
  }

  /**
   * Appends `data` at the end of the run, its last page padded with zeros (the caller
   * checked `appendable`, or the run is empty after `reset`).
   */
  append(data: Uint8Array): void {
    const count = Math.ceil(data.length / this.pageSize);
    if (this.pages + count > this.capacityPages) throw new Error(`cannot append ${data.length} bytes to a page run`);
    const at = this.pages * this.pageSize;
    this.bytes.set(data, at);
    this.bytes.fill(0, at + data.length, at + count * this.pageSize);
    this.pages += count;
  }

  /** Copies pages [address, address + count) of the run into `out`. */
  copyOut(address: number, count: number, out: Uint8Array): void {
    const from = (address - this.start) * this.pageSize;
    out.set(this.bytes.subarray(from, from + count * this.pageSize));
  }
}

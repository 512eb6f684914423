/**
 * Which sectors of the image the journal has already saved: a sparse bitmap in
 * 16 MiB chunks (4 KiB of bits each), so a command that touches a few metadata
 * sectors of a 2 TiB device costs a few KiB, not a bitmap of the whole device.
 */
const SECTORS_PER_CHUNK = 32768;

export class SectorSet {
  private readonly chunks = new Map<number, Uint8Array>();

  has(sector: number): boolean {
    const chunk = this.chunks.get(Math.floor(sector / SECTORS_PER_CHUNK));
    if (!chunk) return false;
    const i = sector % SECTORS_PER_CHUNK;
    return (chunk[i >>> 3]! & (1 << (i & 7))) !== 0;
  }

  /** Adds sectors `first..last` (inclusive). */
  addRange(first: number, last: number): void {
    for (let s = first; s <= last; s++) {
      const key = Math.floor(s / SECTORS_PER_CHUNK);
      let chunk = this.chunks.get(key);
      if (!chunk) this.chunks.set(key, (chunk = new Uint8Array(SECTORS_PER_CHUNK / 8)));
      const i = s % SECTORS_PER_CHUNK;
      chunk[i >>> 3]! |= 1 << (i & 7);
    }
  }

  clear(): void {
    this.chunks.clear();
  }
}

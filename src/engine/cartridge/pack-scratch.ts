/**
 * Packs read in order (docs/cartridge-format.md §7.5): cp -r out of 10,000 small files
 * reads 230 packs of 128 KiB, each once, neighbour after neighbour. Decoding each into a
 * new buffer kept by the shared extent cache cost more than the decoding itself here
 * (a fresh 128 KiB buffer per pack, zeroed, then collected), so a pack met for the
 * first time is decoded into this one reused buffer instead. A pack met again (reads that
 * go back and forth between packs) goes through the extent cache, which then keeps it.
 */
import { readExtent } from './extent-cache.js';
import { type ExtentContext, decodeExtentInto } from './extent-codec.js';
import { type ExtentRecord } from './extent-record.js';
import { PACK_LOGICAL_MAX } from './packs.js';
import { type Pager } from './pager.js';

export class PackScratch {
  private buffer: Uint8Array | null = null;
  /** Packs decoded into the buffer so far (by first page): a second visit uses the cache. */
  private readonly seen = new Set<number>();

  constructor(private readonly pager: Pager) {}

  /**
   * The verified logical bytes of the pack `record` names. The result is valid until the
   * next call (it may be this object's buffer): callers copy out of it at once.
   */
  bytes(record: ExtentRecord, ctx: ExtentContext): Uint8Array {
    const pager = this.pager;
    if (record.logicalLength > PACK_LOGICAL_MAX || this.seen.has(record.address) || pager.extentCache.has(record.address)) return readExtent(pager, record, ctx);
    this.seen.add(record.address);
    const buffer = (this.buffer ??= new Uint8Array(PACK_LOGICAL_MAX));
    const stored = pager.readRawScratch(record.address, record.pageCount);
    const bytes = decodeExtentInto(stored, record, ctx, buffer);
    // Stored raw and plain, the bytes are a view of the pager's scratch buffer, which its next read reuses.
    if (bytes.buffer === stored.buffer) {
      buffer.set(bytes);
      return buffer.subarray(0, bytes.length);
    }
    return bytes;
  }
}

/**
 * Decoded extents kept between reads (docs/cartridge-format.md §9): verifying, decrypting
 * and decompressing a 1 MiB extent costs about a millisecond, a 64 KiB copy out of it a
 * few microseconds, so random reads of data read before are served from here. ARC, like
 * the page cache, so a one-off sequential read does not flush extents read repeatedly.
 * Keyed by the extent's first page and checked against its birth generation; the pager
 * drops an entry when the extent's pages are freed.
 */
import { ArcCache } from './arc-cache.js';
import { type ExtentContext, decodeExtentInto } from './extent-codec.js';
import { type ExtentRecord } from './extent-record.js';

/** What readExtent needs of the pager (an interface, so this module does not import pager.ts, which imports it). */
export interface ExtentSource {
  readonly extentCache: ExtentCache;
  readRawScratch(address: number, count: number): Uint8Array;
}

export type ExtentCache = ArcCache<number, { generation: number; bytes: Uint8Array }>;

/** `entries` decoded extents at most (the pager gives half the --cache-size budget: 64 by default, an extent being at most 1 MiB). */
export function createExtentCache(entries: number): ExtentCache {
  return new ArcCache(entries);
}

/**
 * The logical bytes of `record`'s extent, verified; from the cache when this extent was
 * decoded before. The result is shared: callers copy out of it and never write into it.
 */
export function readExtent(pager: ExtentSource, record: ExtentRecord, ctx: ExtentContext): Uint8Array {
  const hit = pager.extentCache.get(record.address);
  if (hit && hit.generation === record.generation && hit.bytes.length === record.logicalLength) return hit.bytes;
  const stored = pager.readRawScratch(record.address, record.pageCount);
  let bytes = decodeExtentInto(stored, record, ctx, new Uint8Array(record.logicalLength));
  // Stored raw and plain: the bytes are a view of the pager's scratch buffer, which the next read reuses.
  if (bytes.buffer === stored.buffer) bytes = bytes.slice();
  pager.extentCache.set(record.address, { generation: record.generation, bytes });
  return bytes;
}

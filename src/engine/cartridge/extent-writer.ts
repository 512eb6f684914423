/**
 * A file's bytes written as extents (docs/cartridge-format.md §9): read one extent from
 * the source, skip it when it is all zeros (a hole), compress, seal (checksum or AEAD)
 * and write it at the next free run, in file order so a large file lies contiguous.
 *
 * Compression is most of the cost (lz4 ~0.36 GB/s per core here on text-like data, even
 * through the C library: about 2.8 CPU s per GiB, scripts/lz4-extent-cost.js), so a
 * large file on a machine with a second core goes through codec-pool.ts: the main
 * thread reads a few extents ahead into shared slots and queues their compression (with
 * the checksum, when the image is not encrypted); the worker takes them oldest first
 * while the main thread, which also reads and writes every extent, takes the newest
 * still queued once another is left for the worker, so both cores compress.
 * Allocation, encryption and writing stay on the main thread, in file order: the image
 * is the same either way.
 */
import { CodecQueue, CodecSlot, codecPoolAvailable } from './codec-pool.js';
import { type CompressedExtent, type ExtentContext, compressExtentSync, sealExtent } from './extent-codec.js';
import { MAX_EXTENT_LOGICAL, encodeExtentMapKey, encodeExtentRecord } from './extent-record.js';
import { lz4Backend } from './lz4-native.js';
import { type Pager } from './pager.js';
import { Compression, type CompressionId } from './superblock.js';

export interface ExtentSource {
  size: number;
  read(buf: Uint8Array, length: number, position: number): void;
  /** See FileDataSource.nextData: lets whole extents of a hole be skipped unread. */
  nextData?(position: number): number;
}

export interface ExtentWriteOptions {
  extentSize: number;
  compression: CompressionId;
  level: number;
  onProgress?: (bytes: number) => void;
}

/** Files smaller than this are compressed on the main thread alone (starting the worker costs ~50 ms of CPU once). */
export const PARALLEL_MIN_BYTES = 16 * MAX_EXTENT_LOGICAL;
/** Extents read ahead and queued: enough that neither thread waits for the other's next job. */
const PIPELINE_SLOTS = 4;
/** Slots at most, when the main thread reads further ahead rather than wait for the worker (CodecQueue.takeOldest). */
const PIPELINE_SLOTS_MAX = 12;
/**
 * Jobs left queued for the worker before this thread compresses one itself: this thread
 * also reads and writes every extent, so when it took the newest job whenever it had to
 * wait, the worker ran out of jobs about a fifth of the time.
 */
const KEEP_QUEUED = 1;
/** Slots kept between files (a cp -r of many large files allocates them once). */
const spareSlots: CodecSlot[] = [];

const ZERO_BLOCK = new Uint8Array(65536);

export function isAllZero(bytes: Uint8Array): boolean {
  for (let at = 0; at < bytes.length; at += ZERO_BLOCK.length) {
    const part = bytes.subarray(at, at + ZERO_BLOCK.length);
    if (Buffer.compare(part, ZERO_BLOCK.subarray(0, part.length)) !== 0) return false;
  }
  return true;
}

/** Allocates, seals and writes one compressed extent; returns its extent-map entry. */
function place(pager: Pager, ctx: ExtentContext, offset: number, compressed: CompressedExtent): [Uint8Array, Uint8Array] {
  const address = pager.allocatePages(Math.ceil(compressed.bytes.length / pager.pageSize));
  const { stored, record } = sealExtent(compressed, address, pager.generation, ctx);
  pager.writeRaw(address, stored);
  return [encodeExtentMapKey(offset), encodeExtentRecord(record)];
}

/** Writes `source` as extents; returns the extent-map entries in file order (holes left out). */
export function writeExtents(pager: Pager, ctx: ExtentContext, source: ExtentSource, options: ExtentWriteOptions): [Uint8Array, Uint8Array][] {
  const { extentSize, compression, level } = options;
  // A sparse source: jump over whole extents of hole (extents stay aligned to extentSize).
  const skipHoles = (offset: number): number => {
    if (!source.nextData || offset >= source.size) return offset;
    const data = source.nextData(offset);
    return data >= offset + extentSize ? Math.min(source.size, Math.floor(data / extentSize) * extentSize) : offset;
  };
  const parallel = compression !== Compression.NONE && source.size >= PARALLEL_MIN_BYTES && extentSize <= MAX_EXTENT_LOGICAL && codecPoolAvailable();
  if (parallel) return writeExtentsParallel(pager, ctx, source, options, skipHoles);
  const entries: [Uint8Array, Uint8Array][] = [];
  const chunk = new Uint8Array(Math.min(extentSize, source.size));
  // The encoder output (lz4 is encoded into it; see compressExtentSync).
  const encoded = new Uint8Array(chunk.length);
  for (let offset = skipHoles(0); offset < source.size; offset = skipHoles(offset)) {
    const length = Math.min(extentSize, source.size - offset);
    const part = chunk.subarray(0, length);
    source.read(part, length, offset);
    if (!isAllZero(part)) entries.push(place(pager, ctx, offset, compressExtentSync(part, compression, pager.pageSize, level, encoded)));
    offset += length;
    options.onProgress?.(offset);
  }
  return entries;
}

interface InFlight {
  slot: CodecSlot;
  offset: number;
  length: number;
  /** All zeros: a hole, nothing queued. */
  zero: boolean;
}

function writeExtentsParallel(pager: Pager, ctx: ExtentContext, source: ExtentSource, options: ExtentWriteOptions, skipHoles: (offset: number) => number): [Uint8Array, Uint8Array][] {
  const { extentSize, compression, level } = options;
  const entries: [Uint8Array, Uint8Array][] = [];
  const free = spareSlots.splice(0, PIPELINE_SLOTS);
  while (free.length < PIPELINE_SLOTS) free.push(CodecSlot.create());
  const queue = new CodecQueue();
  const inFlight: InFlight[] = [];
  // Unencrypted, the checksum of the stored bytes is computed beside the compression.
  const checksum = ctx.dataKey ? null : ctx.checksumAlgorithm;
  let offset = skipHoles(0);
  let slots = free.length;
  /** Reads the next extent into a free slot and queues it (false: no slot or nothing left). */
  const readNext = (): boolean => {
    if (free.length === 0 || offset >= source.size) return false;
    const slot = free.pop()!;
    const length = Math.min(extentSize, source.size - offset);
    const part = slot.input.subarray(0, length);
    source.read(part, length, offset);
    const zero = isAllZero(part);
    if (!zero) queue.submit(slot, { kind: 'compress', length, compression, pageSize: pager.pageSize, level, checksum, lz4: lz4Backend() });
    inFlight.push({ slot, offset, length, zero });
    offset = skipHoles(offset + length);
    return !zero || readNext();
  };
  // Rather than wait for the worker: one more slot, read and queued for this thread.
  const more = (): boolean => {
    if (free.length === 0 && slots < PIPELINE_SLOTS_MAX && offset < source.size) {
      free.push(CodecSlot.create());
      slots++;
    }
    return readNext();
  };
  try {
    for (;;) {
      while (free.length > 0 && offset < source.size) readNext();
      const next = inFlight.shift();
      if (!next) break;
      if (!next.zero) {
        const slot = queue.takeOldest(more, KEEP_QUEUED);
        const extent: CompressedExtent = { bytes: slot.result(), compression: slot.resultCompression(), logicalLength: next.length, checksum: slot.resultChecksum() };
        entries.push(place(pager, ctx, next.offset, extent));
      }
      free.push(next.slot);
      options.onProgress?.(next.offset + next.length);
    }
  } finally {
    free.push(...queue.drain(), ...inFlight.map((f) => f.slot).filter((slot) => !free.includes(slot)));
    spareSlots.push(...[...new Set(free)].slice(0, PIPELINE_SLOTS_MAX - spareSlots.length));
  }
  return entries;
}

/**
 * A file's bytes written as extents (docs/cartridge-format.md §9): read one extent from
 * the source, skip it when it is all zeros (a hole), compress, seal (checksum or AEAD)
 * and write it at the next free run, in file order so a large file lies contiguous.
 *
 * Compression is most of the cost (lz4 ~0.3 GB/s per core here), so for a large file
 * on a machine with a second core every other extent is compressed by one worker
 * thread (compress-worker.ts) while the main thread compresses the next one: the
 * source's bytes go to the worker through a shared slot and come back the same way,
 * so nothing is copied per extent beyond the codec's own output. The main thread blocks
 * on Atomics.wait (the Volume's writeFile is synchronous), so a pair of extents costs
 * the slower of the two compressions instead of their sum. Allocation, sealing and
 * writing stay on the main thread, in file order: the image is the same either way.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { builtModuleUrl } from '../../io/parallel.js';
import { threadBudget } from '../../io/thread-budget.js';
import { type CompressedExtent, type ExtentContext, compressExtentSync, sealExtent } from './extent-codec.js';
import { MAX_EXTENT_LOGICAL, encodeExtentRecord } from './extent-record.js';
import type { CompressJob, CompressReply } from './compress-worker.js';
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
/** How long a call may block before the worker counts as failed (a hung thread must not hang diskkit). */
const CALL_TIMEOUT_MS = 60_000;

interface Helper {
  worker: Worker;
  port: MessagePort;
  wake: Int32Array;
  input: Uint8Array;
  output: Uint8Array;
}

let helper: Helper | null | undefined;
/** Extents compressed by the worker since start (tests check the parallel path ran). */
export const extentWriterCounts = { workerExtents: 0 };

/** The compression worker, started on first use and unref'd (it never keeps the process alive); null where it cannot start. */
function compressionHelper(): Helper | null {
  if (helper !== undefined) return helper;
  try {
    const { port1, port2 } = new MessageChannel();
    const flag = new SharedArrayBuffer(4);
    const input = new SharedArrayBuffer(MAX_EXTENT_LOGICAL);
    const output = new SharedArrayBuffer(MAX_EXTENT_LOGICAL);
    const worker = new Worker(builtModuleUrl('./compress-worker.js', import.meta.url), { workerData: { port: port2, flag, input, output }, transferList: [port2] });
    worker.unref();
    port1.unref();
    // A worker that dies is reported by the next call's timeout or missing answer.
    worker.on('error', () => {});
    helper = { worker, port: port1, wake: new Int32Array(flag), input: new Uint8Array(input), output: new Uint8Array(output) };
  } catch {
    helper = null;
  }
  return helper;
}

function keyOf(offset: number): Uint8Array {
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, BigInt(offset));
  return key;
}

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
  return [keyOf(offset), encodeExtentRecord(record)];
}

/** Writes `source` as extents; returns the extent-map entries in file order (holes left out). */
export function writeExtents(pager: Pager, ctx: ExtentContext, source: ExtentSource, options: ExtentWriteOptions): [Uint8Array, Uint8Array][] {
  const parallel = options.compression !== Compression.NONE && source.size >= PARALLEL_MIN_BYTES && options.extentSize <= MAX_EXTENT_LOGICAL && threadBudget() > 1;
  const worker = parallel ? compressionHelper() : null;
  const entries: [Uint8Array, Uint8Array][] = [];
  const chunk = new Uint8Array(Math.min(options.extentSize, source.size));
  const { extentSize, compression, level } = options;
  // The main thread's encoder output (lz4 is encoded into it; see compressExtentSync).
  const encoded = new Uint8Array(chunk.length);
  const compress = (data: Uint8Array) => compressExtentSync(data, compression, pager.pageSize, level, encoded);
  // A sparse source: jump over whole extents of hole (extents stay aligned to extentSize).
  const skipHoles = (offset: number): number => {
    if (!source.nextData || offset >= source.size) return offset;
    const data = source.nextData(offset);
    return data >= offset + extentSize ? Math.min(source.size, Math.floor(data / extentSize) * extentSize) : offset;
  };
  for (let offset = skipHoles(0); offset < source.size; offset = skipHoles(offset)) {
    const length = Math.min(extentSize, source.size - offset);
    if (!worker) {
      const part = chunk.subarray(0, length);
      source.read(part, length, offset);
      if (!isAllZero(part)) entries.push(place(pager, ctx, offset, compress(part)));
      offset += length;
      options.onProgress?.(offset);
      continue;
    }
    // This extent to the worker, the next one compressed here meanwhile.
    const sent = worker.input.subarray(0, length);
    source.read(sent, length, offset);
    const sentOffset = offset;
    const sentZero = isAllZero(sent);
    if (!sentZero) {
      Atomics.store(worker.wake, 0, 0);
      worker.port.postMessage({ length, compression, pageSize: pager.pageSize, level } satisfies CompressJob);
    }
    offset = skipHoles(offset + length);
    let mine: { offset: number; extent: CompressedExtent } | null = null;
    if (offset < source.size) {
      const next = Math.min(extentSize, source.size - offset);
      const part = chunk.subarray(0, next);
      source.read(part, next, offset);
      if (!isAllZero(part)) mine = { offset, extent: compress(part) };
      offset += next;
    }
    if (!sentZero) {
      if (Atomics.wait(worker.wake, 0, 0, CALL_TIMEOUT_MS) === 'timed-out') throw new Error(`compression worker did not answer within ${CALL_TIMEOUT_MS / 1000} s`);
      const reply = receiveMessageOnPort(worker.port)?.message as CompressReply | undefined;
      if (!reply) throw new Error('compression worker woke without an answer');
      if (!reply.ok) throw new Error(reply.message);
      extentWriterCounts.workerExtents++;
      const bytes = reply.compression === Compression.NONE ? sent : worker.output.subarray(0, reply.length);
      entries.push(place(pager, ctx, sentOffset, { bytes, compression: reply.compression, logicalLength: length }));
    }
    if (mine) entries.push(place(pager, ctx, mine.offset, mine.extent));
    options.onProgress?.(offset);
  }
  return entries;
}

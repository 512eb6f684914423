/**
 * The extent codec work that can run on either thread of codec-pool.ts: compressing a
 * file's extent (writer) and verifying and decoding a stored one (reader). A job's bytes
 * live in a slot of shared memory: the input the main thread filled, an output the job
 * writes, and a small result area. The same function runs on the worker and on the main
 * thread (which takes a queued job instead of waiting), so either gives the same bytes.
 */
import { readSync, writeSync } from 'node:fs';
import { DiskkitError, ErrorCode, fromSystemError } from '../errors.js';
import { type ChecksumAlgorithmId, computeChecksum } from './checksum.js';
import { type ExtentContext, compressExtentSync, decodeExtentInto } from './extent-codec.js';
import { type ExtentRecord, MAX_EXTENT_LOGICAL } from './extent-record.js';
import { lz4Backend } from './lz4-native.js';
import { Compression, type CompressionId } from './superblock.js';

/**
 * Slot states: the low 3 bits of the first Int32 of a slot's control area; the bits
 * above hold the job's number, so a job message that arrives after its job was done on
 * the main thread and the slot refilled cannot claim the new job.
 */
export const SlotState = { FREE: 0, QUEUED: 1, CLAIMED: 2, DONE: 3, FAILED: 4 } as const;
export const STATE_BITS = 3;
export const STATE_MASK = 7;

/** Control area: state, result compression, result length, result place (0 input, 1 output), checksum length, done by the worker (1); then the checksum. */
const CONTROL_INTS = 8;
const CHECKSUM_MAX = 64;

export interface SlotMemory {
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

/** Slot numbers (the worker keeps each slot's views by it). */
let lastSlotId = 0;

/** A slot seen from either thread. */
export class CodecSlot {
  /** Its number in this process (0 on the worker, which knows slots by the number the main thread gave). */
  readonly id: number;
  /** Whether the worker was sent this slot's memory (codec-pool.ts sends it with the slot's first job). */
  sentToWorker = false;
  readonly input: Uint8Array;
  readonly output: Uint8Array;
  readonly ints: Int32Array;
  readonly checksum: Uint8Array;

  constructor(
    readonly memory: SlotMemory,
    id = 0,
  ) {
    this.id = id;
    this.input = new Uint8Array(memory.input);
    this.output = new Uint8Array(memory.output);
    this.ints = new Int32Array(memory.control, 0, CONTROL_INTS);
    this.checksum = new Uint8Array(memory.control, CONTROL_INTS * 4, CHECKSUM_MAX);
  }

  static create(): CodecSlot {
    return new CodecSlot(
      {
        input: new SharedArrayBuffer(MAX_EXTENT_LOGICAL),
        output: new SharedArrayBuffer(MAX_EXTENT_LOGICAL),
        control: new SharedArrayBuffer(CONTROL_INTS * 4 + CHECKSUM_MAX),
      },
      ++lastSlotId,
    );
  }

  get state(): number {
    return Atomics.load(this.ints, 0) & STATE_MASK;
  }

  /** The job's result bytes (a view of the input or the output). */
  result(): Uint8Array {
    const bytes = this.ints[3] === 1 ? this.output : this.input;
    return bytes.subarray(0, this.ints[2]);
  }

  resultCompression(): CompressionId {
    return this.ints[1] as CompressionId;
  }

  /** The checksum a compress job computed (null when it was asked for none). */
  resultChecksum(): Uint8Array | null {
    const length = this.ints[4]!;
    return length > 0 ? this.checksum.slice(0, length) : null;
  }
}

export type CodecJob =
  | {
      kind: 'compress';
      length: number;
      compression: CompressionId;
      pageSize: number;
      level: number;
      checksum: ChecksumAlgorithmId | null;
      /** The lz4 codec of the thread that queued the job (lz4-native.ts): another thread's would write other (valid) bytes. */
      lz4: 'c' | 'js';
    }
  | { kind: 'decode'; storedLength: number; record: ExtentRecord; ctx: ExtentContext; from?: StoredRange; to?: OutputRange };

/**
 * Where a decode job's stored bytes lie in the image file, when the job reads them
 * itself (file-reader.ts's read-ahead): then the read, like the checks, runs on
 * whichever thread takes the job, and the main thread of a copy out is left the writing.
 * Worker threads share the process's descriptors.
 */
export interface StoredRange {
  fd: number;
  position: number;
  /** Whole pages: at least the job's storedLength. */
  length: number;
  /** The image, for errors. */
  path: string;
}

/**
 * Where a decode job writes the extent's bytes once they are verified and decoded (a
 * whole file copied out, file-reader.ts writeWholeTo): each thread writes what it
 * decoded straight from its own cache, at the extent's place in the output file.
 */
export interface OutputRange {
  fd: number;
  position: number;
  /** The extent's bytes that lie inside the file (an extent may run past its end). */
  length: number;
  /** The output file, for errors. */
  path: string;
}

/** Writes `bytes[0, to.length)` at `to.position` of `to.fd`. */
function writeOutput(to: OutputRange, bytes: Uint8Array): void {
  let done = 0;
  while (done < to.length) {
    try {
      done += writeSync(to.fd, bytes, done, to.length - done, to.position + done);
    } catch (error) {
      throw fromSystemError(error, to.path, 'write output file');
    }
  }
}

/** Reads `from` into `into` (long enough); a short read is the pager's E_TRUNCATED. */
function readStored(from: StoredRange, into: Uint8Array, pageSize: number): void {
  let done = 0;
  while (done < from.length) {
    let n: number;
    try {
      n = readSync(from.fd, into, done, from.length - done, from.position + done);
    } catch (error) {
      throw fromSystemError(error, from.path, `read page ${Math.floor((from.position + done) / pageSize)}`);
    }
    if (n === 0) break;
    done += n;
  }
  if (done < from.length) {
    const page = Math.floor((from.position + done) / pageSize);
    throw new DiskkitError(ErrorCode.TRUNCATED, `image ends inside page ${page}`, { context: { path: from.path, page: Math.floor(from.position / pageSize) } });
  }
}

/** Where the result bytes are (0: the input, 1: the output). */
function place(slot: CodecSlot, bytes: Uint8Array): void {
  if (bytes.buffer === slot.output.buffer && bytes.byteOffset === 0) slot.ints[3] = 1;
  else if (bytes.buffer === slot.input.buffer && bytes.byteOffset === 0) slot.ints[3] = 0;
  else {
    // A codec that allocates (zstd, AES-GCM): copied into the output.
    slot.output.set(bytes);
    slot.ints[3] = 1;
  }
  slot.ints[2] = bytes.length;
}

/** Runs `job` on `slot` (either thread); throws what the codec throws. */
export function runCodecJob(job: CodecJob, slot: CodecSlot): void {
  if (job.kind === 'compress') {
    // A thread whose lz4 codec differs refuses the job (the queueing thread then runs it), so the image is the same whichever thread compressed.
    if (job.compression === Compression.LZ4 && lz4Backend() !== job.lz4) throw new Error(`this thread's lz4 codec is ${lz4Backend()}, the job's ${job.lz4}`);
    const result = compressExtentSync(slot.input.subarray(0, job.length), job.compression, job.pageSize, job.level, slot.output);
    slot.ints[1] = result.compression;
    place(slot, result.bytes);
    slot.ints[4] = 0;
    if (job.checksum !== null) {
      const sum = computeChecksum(job.checksum, result.bytes);
      slot.checksum.set(sum);
      slot.ints[4] = sum.length;
    }
    return;
  }
  // Encrypted, the input is decrypted in place: a failed job run again reports the tag mismatch again (its input no longer verifies).
  if (job.from) readStored(job.from, slot.input, job.ctx.pageSize);
  const bytes = decodeExtentInto(slot.input.subarray(0, job.storedLength), job.record, job.ctx, slot.output);
  slot.ints[1] = Compression.NONE;
  place(slot, bytes);
  if (job.to) {
    if (job.to.length > bytes.length) throw new DiskkitError(ErrorCode.CORRUPT, `extent at page ${job.record.address} holds ${bytes.length} bytes, ${job.to.length} wanted`, { context: { page: job.record.address } });
    writeOutput(job.to, bytes);
  }
}

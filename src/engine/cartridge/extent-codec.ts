/**
 * Extent data on its way to and from disk (docs/cartridge-format.md §9, §10.2):
 * compress (lz4, zstd or none, raw when compression saves no page), then encrypt or
 * checksum. Reading reverses it and checks every length before trusting it.
 *
 * lz4 is encoded and decoded by lz4-native.ts (the C reference library, or lz4-block.ts
 * without it) in buffers the caller reuses: lz4-napi's fresh output buffers cost more
 * in page faults than the decoding; lz4-napi still encodes extents given no buffer.
 * zstd comes from @mongodb-js/zstd, whose API is Promise-only: the async forms call it
 * directly, the synchronous ones (what the Volume's readers and writers need) through
 * the worker of zstd-sync.ts.
 */
import { createRequire } from 'node:module';
import { readU32LE } from '../binary.js';
import { DiskkitError, ErrorCode } from '../errors.js';
import { aeadSeal, sealNonce, sealTag } from './block-pointer.js';
import { type ChecksumAlgorithmId, computeChecksum, sameChecksum } from './checksum.js';
import { DATA_EXTENT_AAD_TYPE, associatedData, gcmDecrypt, gcmDecryptInPlace, gcmEncrypt, randomNonce } from './aead.js';
import { type ExtentRecord, MAX_EXTENT_LOGICAL } from './extent-record.js';
import { Compression, type CompressionId } from './superblock.js';
import { zstdCompressSync, zstdDecompressSync } from './zstd-sync.js';
import { Lz4FormatError, decodeLz4, encodeLz4 } from './lz4-native.js';

export interface ExtentContext {
  pageSize: number;
  checksumAlgorithm: ChecksumAlgorithmId;
  uuid: Uint8Array;
  /** K_data (§10.1) when the image is encrypted. */
  dataKey: Uint8Array | null;
}

export interface CompressedExtent {
  /** What goes to disk before encryption. */
  bytes: Uint8Array;
  /** The id actually used: NONE when compression did not pay. */
  compression: CompressionId;
  logicalLength: number;
  /** The checksum of `bytes`, when a codec thread computed it already (unencrypted images). */
  checksum?: Uint8Array | null;
}

// The native codecs load on first use: every command registers the Cartridge format,
// and a FAT `ls` should not pay for loading two native libraries it never calls.
// Made on first use: createRequire loads node:module, which a plain ls of an image never needs.
let nativeRequire: NodeJS.Require | undefined;
const requireNative = (id: string): unknown => (nativeRequire ??= createRequire(import.meta.url))(id);
let lz4: typeof import('lz4-napi') | null = null;
let zstd: typeof import('@mongodb-js/zstd') | null = null;
function lz4Compress(data: Buffer): Buffer {
  return (lz4 ??= requireNative('lz4-napi') as typeof import('lz4-napi')).compressSync(data);
}
function zstdCompress(data: Buffer, level: number): Promise<Buffer> {
  return (zstd ??= requireNative('@mongodb-js/zstd') as typeof import('@mongodb-js/zstd')).compress(data, level);
}
function zstdDecompress(data: Buffer): Promise<Buffer> {
  return (zstd ??= requireNative('@mongodb-js/zstd') as typeof import('@mongodb-js/zstd')).decompress(data);
}

function checkLogical(length: number): void {
  if (length < 1 || length > MAX_EXTENT_LOGICAL) throw new Error(`extent of ${length} bytes outside 1..${MAX_EXTENT_LOGICAL}`);
}

/** §9.2 raw fallback: keep the compressed form only when it saves at least one page. */
function choose(data: Uint8Array, compressed: Uint8Array, id: CompressionId, pageSize: number): CompressedExtent {
  const pays = Math.ceil(compressed.length / pageSize) < Math.ceil(data.length / pageSize);
  return pays ? { bytes: compressed, compression: id, logicalLength: data.length } : { bytes: data, compression: Compression.NONE, logicalLength: data.length };
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.length);
}

function asBytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** lz4 early abort (see looksIncompressible): samples of this many bytes... */
const SAMPLE_BYTES = 4096;
/** ...taken from extents at least this long (shorter ones are compressed whole: a sample would cost more than it could save). */
const SAMPLE_MIN_EXTENT = 128 * 1024;

/**
 * §9.2 early abort for lz4: true when three samples of `data` (its start, middle and
 * end) each fail to shrink by 1/128 (random or already-compressed data; lz4 writes such
 * data slightly longer than it is). Compressing a whole incompressible megabyte to
 * find it saves no page cost 0.3–0.45 CPU s per GiB here (the encoder keeps finding
 * short matches that do not pay; scripts/lz4-extent-cost.js); the samples cost under
 * 0.01, and a compressible extent pays one sample (0.4% of a full encode at 1 MiB,
 * within the noise of measuring it). An extent whose samples all
 * miss its compressible parts is stored raw: bigger, never wrong. Not for zstd, whose
 * entropy stage compresses data that lz4's matches miss.
 */
function looksIncompressible(data: Uint8Array, out: Uint8Array): boolean {
  if (data.length < SAMPLE_MIN_EXTENT) return false;
  const limit = SAMPLE_BYTES - SAMPLE_BYTES / 128;
  for (const at of [0, (data.length - SAMPLE_BYTES) >>> 1, data.length - SAMPLE_BYTES]) {
    if (encodeLz4(data.subarray(at, at + SAMPLE_BYTES), out, 0, limit) >= 0) return false;
  }
  return true;
}

/**
 * Synchronous compression (zstd through the worker of zstd-sync.ts). With `out` (at
 * least data.length bytes), lz4 is encoded by lz4-native.ts into it and the result is a
 * view of it, valid until `out` is reused: a writer of large files reuses one buffer
 * instead of taking a fresh megabyte from the binding per extent (page faults cost more
 * than the encoding here), stores raw what three samples show to be incompressible
 * (looksIncompressible), and gives up on data that will not save a page as soon as the
 * output is too long. Without it, lz4-napi's encoder (faster on small inputs, whose
 * buffers come from the heap).
 */
export function compressExtentSync(data: Uint8Array, compression: CompressionId, pageSize: number, zstdLevel = 3, out?: Uint8Array): CompressedExtent {
  checkLogical(data.length);
  if (compression === Compression.NONE) return { bytes: data, compression, logicalLength: data.length };
  if (compression === Compression.LZ4 && out !== undefined && out.length >= data.length) {
    // §9.2: kept only when it saves at least one page.
    const limit = (Math.ceil(data.length / pageSize) - 1) * pageSize;
    const end = limit > 4 && !looksIncompressible(data, out) ? encodeLz4(data, out, 4, limit) : -1;
    if (end < 0) return { bytes: data, compression: Compression.NONE, logicalLength: data.length };
    new DataView(out.buffer, out.byteOffset, 4).setUint32(0, data.length, true);
    return { bytes: out.subarray(0, end), compression, logicalLength: data.length };
  }
  if (compression === Compression.LZ4) return choose(data, asBytes(lz4Compress(asBuffer(data))), compression, pageSize);
  return choose(data, zstdCompressSync(data, zstdLevel), compression, pageSize);
}

export async function compressExtent(data: Uint8Array, compression: CompressionId, pageSize: number, zstdLevel = 3): Promise<CompressedExtent> {
  if (compression !== Compression.ZSTD) return compressExtentSync(data, compression, pageSize);
  checkLogical(data.length);
  return choose(data, asBytes(await zstdCompress(asBuffer(data), zstdLevel)), compression, pageSize);
}

/**
 * Encrypts (or checksums) compressed bytes for pages [address, …) and returns the bytes
 * to write there (`storedLength` of them, not padded: pager.writeRaw pads the last page;
 * unencrypted, they are `extent.bytes` itself) and the record for the file's extent list.
 */
export function sealExtent(extent: CompressedExtent, address: number, generation: number, ctx: ExtentContext): { stored: Uint8Array; record: ExtentRecord } {
  const storedLength = extent.bytes.length;
  const pageCount = Math.ceil(storedLength / ctx.pageSize);
  // Not copied into a page-padded buffer: a fresh megabyte per extent cost more than the
  // checksum (page faults); pager.writeRaw pads the last page with zeros.
  let stored: Uint8Array;
  let seal: Uint8Array;
  if (ctx.dataKey) {
    const nonce = randomNonce();
    const { ciphertext, tag } = gcmEncrypt(ctx.dataKey, nonce, extent.bytes, associatedData(ctx.uuid, address, generation, DATA_EXTENT_AAD_TYPE));
    stored = ciphertext;
    seal = aeadSeal(tag, nonce);
  } else {
    stored = extent.bytes;
    seal = extent.checksum ?? computeChecksum(ctx.checksumAlgorithm, extent.bytes);
  }
  return { stored, record: { address, generation, pageCount, storedLength, logicalLength: extent.logicalLength, compression: extent.compression, seal } };
}

function corrupt(record: ExtentRecord, what: string, kind: string): DiskkitError {
  const code = kind === 'checksum' || kind === 'tag' ? ErrorCode.CHECKSUM : ErrorCode.CORRUPT;
  return new DiskkitError(code, `extent at page ${record.address}: ${what}`, { context: { page: record.address, pageCount: record.pageCount, kind } });
}

/** Verifies the stored bytes (at least `storedLength` of them) against the record; returns the compressed plaintext. */
export function openExtent(stored: Uint8Array, record: ExtentRecord, ctx: ExtentContext): Uint8Array {
  if (stored.length < record.storedLength) throw new DiskkitError(ErrorCode.TRUNCATED, `extent at page ${record.address} is cut short`, { context: { page: record.address } });
  const bytes = stored.subarray(0, record.storedLength);
  if (ctx.dataKey) {
    const aad = associatedData(ctx.uuid, record.address, record.generation, DATA_EXTENT_AAD_TYPE);
    const plain = gcmDecrypt(ctx.dataKey, sealNonce(record.seal), bytes, sealTag(record.seal), aad);
    if (plain === null) throw corrupt(record, 'authentication tag mismatch (tampered, moved or wrong key)', 'tag');
    return plain;
  }
  if (!sameChecksum(computeChecksum(ctx.checksumAlgorithm, bytes), record.seal)) throw corrupt(record, 'checksum mismatch', 'checksum');
  return bytes;
}

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_BLOCK_MAX = 128 * 1024;
/** Largest output a zstd extent may be decompressed into (hostile frames stop here). */
export const ZSTD_OUTPUT_LIMIT = 16 * MAX_EXTENT_LOGICAL;

/**
 * Upper bound of what one zstd frame (RFC 8878 §3.1.1) decompresses to, from its block
 * headers alone: raw and RLE blocks state their size, a compressed block regenerates at
 * most 128 KiB. Null when the bytes are not exactly one well-formed frame. The library's
 * API takes no output limit, so this walk is what keeps a hostile frame from claiming
 * gigabytes (a Frame_Content_Size, when present, must match too).
 */
export function zstdOutputBound(frame: Uint8Array): number | null {
  if (frame.length < 6 || readU32LE(frame, 0) !== ZSTD_MAGIC) return null;
  const descriptor = frame[4]!;
  if (descriptor & 0x08) return null; // reserved bit
  const fcsFlag = descriptor >>> 6;
  const singleSegment = (descriptor >>> 5) & 1;
  const hasChecksum = (descriptor >>> 2) & 1;
  const dictIdSize = [0, 1, 2, 4][descriptor & 3]!;
  const fcsSize = fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag]!;
  let at = 5 + (singleSegment ? 0 : 1) + dictIdSize;
  let contentSize: number | null = null;
  if (at + fcsSize > frame.length) return null;
  if (fcsSize === 1) contentSize = frame[at]!;
  else if (fcsSize === 2) contentSize = (frame[at]! | (frame[at + 1]! << 8)) + 256;
  else if (fcsSize === 4) contentSize = readU32LE(frame, at);
  else if (fcsSize === 8) contentSize = readU32LE(frame, at + 4) === 0 ? readU32LE(frame, at) : Number.MAX_SAFE_INTEGER;
  at += fcsSize;
  let bound = 0;
  for (;;) {
    if (at + 3 > frame.length) return null;
    const header = frame[at]! | (frame[at + 1]! << 8) | (frame[at + 2]! << 16);
    at += 3;
    const last = header & 1;
    const type = (header >>> 1) & 3;
    const size = header >>> 3;
    if (type === 3 || size > ZSTD_BLOCK_MAX) return null;
    if (type === 0) {
      at += size;
      bound += size;
    } else if (type === 1) {
      at += 1;
      bound += size;
    } else {
      at += size;
      bound += ZSTD_BLOCK_MAX;
    }
    if (at > frame.length) return null;
    if (last) break;
  }
  if (hasChecksum) at += 4;
  if (at !== frame.length) return null;
  return contentSize === null ? bound : Math.min(bound, contentSize);
}

function checkedOutput(out: Uint8Array, record: ExtentRecord): Uint8Array {
  if (out.length !== record.logicalLength) throw corrupt(record, `decompressed to ${out.length} bytes, record says ${record.logicalLength}`, 'length');
  return out;
}

function claimedLength(bytes: Uint8Array, record: ExtentRecord): void {
  if (record.compression === Compression.LZ4) {
    const claim = bytes.length >= 4 ? readU32LE(bytes, 0) : -1;
    if (claim !== record.logicalLength) throw corrupt(record, `lz4 data claims ${claim} bytes, record says ${record.logicalLength}`, 'length');
    return;
  }
  const bound = zstdOutputBound(bytes);
  if (bound === null) throw corrupt(record, 'zstd data is not one well-formed frame', 'compression');
  if (bound < record.logicalLength || bound > ZSTD_OUTPUT_LIMIT) {
    throw corrupt(record, `zstd frame can produce up to ${bound} bytes, record says ${record.logicalLength}`, 'length');
  }
}

/** Decompresses verified bytes (zstd through the worker of zstd-sync.ts) into a new buffer. */
export function decompressExtentSync(bytes: Uint8Array, record: ExtentRecord): Uint8Array {
  if (record.compression === Compression.NONE) return checkedOutput(bytes, record);
  return decompressExtentInto(bytes, record, new Uint8Array(record.logicalLength));
}

/**
 * Decompresses verified bytes into `out` (at least logicalLength long) and returns the
 * logical bytes: a view of `out` for lz4, `bytes` itself when stored raw, a new buffer
 * for zstd (its decoder allocates). lz4 is decoded by lz4-native.ts straight into `out`:
 * a reader that reuses `out` takes no page faults per extent.
 */
export function decompressExtentInto(bytes: Uint8Array, record: ExtentRecord, out: Uint8Array): Uint8Array {
  if (record.compression === Compression.NONE) return checkedOutput(bytes, record);
  claimedLength(bytes, record);
  if (record.compression === Compression.ZSTD) {
    let zout: Uint8Array;
    try {
      zout = zstdDecompressSync(bytes);
    } catch (error) {
      throw corrupt(record, `zstd data does not decode (${(error as Error).message})`, 'compression');
    }
    return checkedOutput(zout, record);
  }
  try {
    decodeLz4(bytes, 4, bytes.length, out, record.logicalLength);
  } catch (error) {
    if (error instanceof Lz4FormatError) throw corrupt(record, `lz4 data does not decode (${error.message})`, 'compression');
    throw error;
  }
  return out.subarray(0, record.logicalLength);
}

/**
 * Verifies `stored` against the record and decodes it into `out` (see
 * decompressExtentInto). Encrypted, `stored` is decrypted in place (callers pass a
 * buffer they reuse), so the result may be a view of it.
 */
export function decodeExtentInto(stored: Uint8Array, record: ExtentRecord, ctx: ExtentContext, out: Uint8Array): Uint8Array {
  if (!ctx.dataKey) return decompressExtentInto(openExtent(stored, record, ctx), record, out);
  if (stored.length < record.storedLength) throw new DiskkitError(ErrorCode.TRUNCATED, `extent at page ${record.address} is cut short`, { context: { page: record.address } });
  const bytes = stored.subarray(0, record.storedLength);
  const aad = associatedData(ctx.uuid, record.address, record.generation, DATA_EXTENT_AAD_TYPE);
  if (!gcmDecryptInPlace(ctx.dataKey, sealNonce(record.seal), bytes, sealTag(record.seal), aad)) throw corrupt(record, 'authentication tag mismatch (tampered, moved or wrong key)', 'tag');
  return decompressExtentInto(bytes, record, out);
}

export async function decompressExtent(bytes: Uint8Array, record: ExtentRecord): Promise<Uint8Array> {
  if (record.compression !== Compression.ZSTD) return decompressExtentSync(bytes, record);
  claimedLength(bytes, record);
  let out: Buffer;
  try {
    out = await zstdDecompress(asBuffer(bytes));
  } catch (error) {
    throw corrupt(record, `zstd data does not decode (${(error as Error).message})`, 'compression');
  }
  return checkedOutput(asBytes(out), record);
}

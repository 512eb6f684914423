/**
 * LZNT1, the compression of NTFS compressed files ([MS-XCA] 2.5, "LZNT1"). A
 * compression unit (16 clusters) is stored as a series of chunks, each standing for
 * up to 4 KiB of output. A chunk starts with a 2-byte header: bits 0–11 are the
 * chunk's stored size minus 3, bit 15 says it is compressed; a zero header ends the
 * unit. A stored chunk is 4 KiB of raw bytes. A compressed chunk is groups of a flag
 * byte and 8 tokens: flag bit 0 = a literal byte, 1 = a 2-byte back-reference whose
 * split between offset and length depends on how far into the chunk the output is
 * (the offset field widens as the position grows, from 4 bits to 12).
 *
 * Hostile input: every read is bounded by the input end and every write by the
 * output end; a back-reference before the chunk start is E_CORRUPT. Nothing loops
 * more than once per input or output byte.
 */
import { DiskkitError, ErrorCode } from '../errors.js';

export const LZNT1_CHUNK_SIZE = 4096;

function bad(message: string, at: number): DiskkitError {
  return new DiskkitError(ErrorCode.CORRUPT, `LZNT1 data is corrupt: ${message}`, { context: { offset: at } });
}

/**
 * Decompresses `src[srcStart..srcEnd)` (one compression unit as stored) into
 * `dst[dstStart..dstStart+dstLength)`. Returns the number of output bytes the chunks
 * stand for (each chunk but the last counts 4 KiB; bytes a short chunk leaves unwritten
 * are zeroed). The caller zero-fills the rest of the unit.
 */
export function decompressLznt1(src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstStart: number, dstLength: number): number {
  const dstEnd = dstStart + dstLength;
  let inAt = srcStart;
  let chunkStart = dstStart;
  while (inAt + 2 <= srcEnd && chunkStart < dstEnd) {
    const header = src[inAt]! | (src[inAt + 1]! << 8);
    if (header === 0) break;
    const stored = (header & 0x0fff) + 1;
    const dataStart = inAt + 2;
    const dataEnd = dataStart + stored;
    if (dataEnd > srcEnd) throw bad(`chunk of ${stored} bytes overflows the unit`, inAt);
    const chunkEnd = Math.min(chunkStart + LZNT1_CHUNK_SIZE, dstEnd);
    if ((header & 0x8000) === 0) {
      // Stored chunk: raw bytes (4 KiB unless it is the last).
      const n = Math.min(stored, chunkEnd - chunkStart);
      dst.set(src.subarray(dataStart, dataStart + n), chunkStart);
      if (chunkStart + n < chunkEnd) dst.fill(0, chunkStart + n, chunkEnd);
    } else {
      const produced = decompressChunk(src, dataStart, dataEnd, dst, chunkStart, chunkEnd);
      if (produced < chunkEnd) dst.fill(0, produced, chunkEnd);
    }
    chunkStart += LZNT1_CHUNK_SIZE;
    inAt = dataEnd;
  }
  return Math.min(chunkStart, dstEnd) - dstStart;
}

/** One compressed chunk; returns the output position reached. */
function decompressChunk(src: Uint8Array, inAt: number, inEnd: number, dst: Uint8Array, chunkStart: number, chunkEnd: number): number {
  let out = chunkStart;
  // Position thresholds at which the length field loses a bit: the offset field must
  // be able to reach back to the chunk start.
  let lengthBits = 12;
  let lengthMask = 0x0fff;
  let threshold = 0x10;
  while (inAt < inEnd) {
    let flags = src[inAt++]!;
    if (flags === 0 && inAt + 8 <= inEnd && out + 8 <= chunkEnd) {
      // Eight literals, the common case in poorly compressible stretches.
      dst[out] = src[inAt]!;
      dst[out + 1] = src[inAt + 1]!;
      dst[out + 2] = src[inAt + 2]!;
      dst[out + 3] = src[inAt + 3]!;
      dst[out + 4] = src[inAt + 4]!;
      dst[out + 5] = src[inAt + 5]!;
      dst[out + 6] = src[inAt + 6]!;
      dst[out + 7] = src[inAt + 7]!;
      inAt += 8;
      out += 8;
      continue;
    }
    // The flag byte is consumed low bit first; shifting it saves a variable shift per token.
    for (let bit = 0; bit < 8; bit++, flags >>>= 1) {
      if (inAt >= inEnd || out >= chunkEnd) return out;
      if ((flags & 1) === 0) {
        dst[out++] = src[inAt++]!;
        continue;
      }
      if (inAt + 2 > inEnd) throw bad('back-reference cut off', inAt);
      const token = src[inAt]! | (src[inAt + 1]! << 8);
      inAt += 2;
      const position = out - chunkStart;
      while (position > threshold) {
        lengthBits--;
        lengthMask >>>= 1;
        threshold <<= 1;
      }
      const offset = (token >>> lengthBits) + 1;
      let length = (token & lengthMask) + 3;
      if (offset > position) throw bad(`back-reference ${offset} bytes behind position ${position}`, inAt - 2);
      if (out + length > chunkEnd) length = chunkEnd - out;
      let from = out - offset;
      if (length > 32) {
        if (offset >= length) {
          dst.copyWithin(out, from, from + length);
          out += length;
          continue;
        }
        // A long repeat of a short pattern: copy the pattern once, then double the
        // copied stretch (each copyWithin reads only bytes already final).
        const end = out + length;
        let span = offset;
        while (out + span < end) {
          dst.copyWithin(out, from, from + span);
          out += span;
          span = out - from;
        }
        dst.copyWithin(out, from, from + (end - out));
        out = end;
        continue;
      }
      // Short copy (most tokens): byte by byte, as the format intends (overlap repeats
      // the pattern); cheaper than a copyWithin call for a few bytes.
      const end = out + length;
      while (out < end) dst[out++] = dst[from++]!;
    }
  }
  return out;
}

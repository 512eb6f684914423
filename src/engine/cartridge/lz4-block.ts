/**
 * LZ4 blocks encoded and decoded in buffers the caller owns (docs/cartridge-format.md §9.2: the
 * stored bytes are u32 LE logicalLength ‖ one LZ4 block). lz4-napi's uncompressSync
 * returns a fresh Buffer per call, and on these machines a fresh megabyte costs more in
 * page faults than the decoding itself (measured: 30,000 faults and 0.4–0.7 CPU s per
 * 102 MiB through the binding); decoding into one reused buffer faults nothing.
 *
 * Written from the block format description (a sequence of token, literal length,
 * literals, 16-bit offset, match length). Every length and offset is checked before it
 * is used, so a hostile block that passed its checksum (CRC-32 can be forged) ends in
 * an error, never a write outside `out` or a loop: each sequence consumes input.
 */

/** Why a block does not decode (the caller wraps it in the extent's error). */
export class Lz4FormatError extends Error {}

/** Matches at least this long are copied with copyWithin (native memmove) when they do not overlap. */
const LONG_MATCH = 32;
/** Literal runs at least this long are copied with set (native memcpy). */
const LONG_LITERALS = 32;

/**
 * Decodes the LZ4 block `src[from, to)` into `out[0, expected)`; returns the bytes
 * produced, which must be exactly `expected` (else Lz4FormatError).
 */
export function decodeLz4Block(src: Uint8Array, from: number, to: number, out: Uint8Array, expected: number): number {
  if (expected > out.length) throw new Lz4FormatError(`output of ${expected} bytes does not fit a ${out.length}-byte buffer`);
  // Short copies go 8 bytes at a time through DataViews (about twice as fast as a byte
  // loop on text, whose sequences average ~7 bytes), writing up to 7 bytes past the end
  // of the copy: those are inside `expected` (checked) and overwritten by what follows.
  const sv = new DataView(src.buffer, src.byteOffset, src.length);
  const ov = new DataView(out.buffer, out.byteOffset, out.length);
  let ip = from;
  let op = 0;
  for (;;) {
    if (ip >= to) throw new Lz4FormatError('block ends before its last sequence');
    const token = src[ip++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (ip >= to) throw new Lz4FormatError('block ends inside a literal length');
        b = src[ip++]!;
        literals += b;
      } while (b === 255);
    }
    if (literals > 0) {
      if (ip + literals > to) throw new Lz4FormatError('literals run past the end of the block');
      if (op + literals > expected) throw new Lz4FormatError('literals run past the expected length');
      if (literals >= LONG_LITERALS) out.set(src.subarray(ip, ip + literals), op);
      else if (ip + literals + 8 <= to && op + literals + 8 <= expected) {
        for (let i = 0; i < literals; i += 8) {
          ov.setUint32(op + i, sv.getUint32(ip + i, true), true);
          ov.setUint32(op + i + 4, sv.getUint32(ip + i + 4, true), true);
        }
      } else for (let i = 0; i < literals; i++) out[op + i] = src[ip + i]!;
      ip += literals;
      op += literals;
    }
    // The last sequence has literals only.
    if (ip === to) break;
    if (ip + 2 > to) throw new Lz4FormatError('block ends inside a match offset');
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw new Lz4FormatError(`match offset ${offset} before the start of the output (at ${op})`);
    let length = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (ip >= to) throw new Lz4FormatError('block ends inside a match length');
        b = src[ip++]!;
        length += b;
      } while (b === 255);
    }
    if (op + length > expected) throw new Lz4FormatError('match runs past the expected length');
    let at = op - offset;
    if (offset >= 8 && length < LONG_MATCH && op + length + 8 <= expected) {
      // Each 8-byte step reads bytes already written (at + 8 <= op).
      const end = op + length;
      while (op < end) {
        ov.setUint32(op, ov.getUint32(at, true), true);
        ov.setUint32(op + 4, ov.getUint32(at + 4, true), true);
        op += 8;
        at += 8;
      }
      op = end;
    } else if (length >= LONG_MATCH && offset >= length) {
      out.copyWithin(op, at, at + length);
      op += length;
    } else if (offset >= 8 && length >= LONG_MATCH) {
      // Overlapping but at least 8 apart: copy in pieces of `offset` bytes, each a memmove of bytes already written.
      const end = op + length;
      while (op < end) {
        const n = Math.min(offset, end - op);
        out.copyWithin(op, at, at + n);
        op += n;
        at += n;
      }
    } else {
      const end = op + length;
      while (op < end) out[op++] = out[at++]!;
    }
  }
  if (op !== expected) throw new Lz4FormatError(`decoded ${op} bytes, expected ${expected}`);
  return op;
}

const HASH_LOG = 16;
const MIN_MATCH = 4;
/** Block rules every decoder relies on: the last 5 bytes are literals, and no match starts within 12 bytes of the end. */
const LAST_LITERALS = 5;
const MATCH_FIND_LIMIT = 12;
const MAX_OFFSET = 65535;
/** Reused hash table of the encoder (positions + 1; 0 = empty). */
let table: Int32Array | null = null;

/**
 * Encodes `src` as one LZ4 block into `out` from `at` (greedy, one hash probe per
 * position, skipping faster through data that does not match, like the reference fast
 * mode). Returns the end of the block in `out`, or -1 as soon as it would pass `limit`
 * (the caller stores the extent raw then: compression that saves no page does not pay,
 * §9.2, and incompressible data is abandoned early instead of encoded in full).
 *
 * One loop with every variable local (no closure, no helper per sequence): text of
 * short words makes a sequence every ~7 bytes, and a call per sequence cost most of
 * the time (0.11 GB/s per core against about twice that now).
 */
export function encodeLz4Block(src: Uint8Array, out: Uint8Array, at: number, limit: number): number {
  const n = src.length;
  limit = Math.min(limit, out.length);
  const sv = new DataView(src.buffer, src.byteOffset, src.length);
  const hash = (table ??= new Int32Array(1 << HASH_LOG));
  hash.fill(0);
  const shift = 32 - HASH_LOG;
  const maxEnd = n - LAST_LITERALS;
  const matchLimit = n - MATCH_FIND_LIMIT;
  let op = at;
  let anchor = 0;
  let ip = 0;
  while (ip < matchLimit) {
    const sequence = sv.getUint32(ip, true);
    const h = Math.imul(sequence, 2654435761) >>> shift;
    const ref = hash[h]! - 1;
    hash[h] = ip + 1;
    if (ref < 0 || ip - ref > MAX_OFFSET || sv.getUint32(ref, true) !== sequence) {
      // The longer the run without a match, the bigger the step (incompressible data is crossed quickly).
      ip += 1 + ((ip - anchor) >>> 6);
      continue;
    }
    let start = ip;
    let from = ref;
    while (start > anchor && from > 0 && src[start - 1] === src[from - 1]) {
      start--;
      from--;
    }
    let end = ip + MIN_MATCH;
    let back = ref + MIN_MATCH;
    // Four bytes at a time; the first differing byte of a word is its lowest set bit's byte (little-endian).
    let differs = false;
    while (end + 4 <= maxEnd) {
      const diff = sv.getUint32(end, true) ^ sv.getUint32(back, true);
      if (diff !== 0) {
        end += (31 - Math.clz32(diff & -diff)) >>> 3;
        differs = true;
        break;
      }
      end += 4;
      back += 4;
    }
    if (!differs) {
      while (end < maxEnd && src[end] === src[back]) {
        end++;
        back++;
      }
    }
    const literals = start - anchor;
    const matchLength = end - start;
    // token + literal length bytes + literals + offset + match length bytes
    if (op + literals + ((literals + matchLength) / 255 | 0) + 8 > limit) return -1;
    const tokenAt = op++;
    let token: number;
    if (literals >= 15) {
      token = 0xf0;
      let rest = literals - 15;
      while (rest >= 255) {
        out[op++] = 255;
        rest -= 255;
      }
      out[op++] = rest;
    } else token = literals << 4;
    if (literals >= LONG_LITERALS) out.set(src.subarray(anchor, start), op);
    else for (let i = 0; i < literals; i++) out[op + i] = src[anchor + i]!;
    op += literals;
    const offset = start - from;
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
    const extra = matchLength - MIN_MATCH;
    if (extra >= 15) {
      token |= 15;
      let rest = extra - 15;
      while (rest >= 255) {
        out[op++] = 255;
        rest -= 255;
      }
      out[op++] = rest;
    } else token |= extra;
    out[tokenAt] = token;
    anchor = end;
    ip = end;
    // Index a position inside the match too, so the next sequences find it.
    if (end - 2 < matchLimit && end - 2 > start) hash[Math.imul(sv.getUint32(end - 2, true), 2654435761) >>> shift] = end - 2 + 1;
  }
  // The last literals.
  const literals = n - anchor;
  if (op + literals + ((literals / 255) | 0) + 2 > limit) return -1;
  if (literals >= 15) {
    out[op++] = 0xf0;
    let rest = literals - 15;
    while (rest >= 255) {
      out[op++] = 255;
      rest -= 255;
    }
    out[op++] = rest;
  } else out[op++] = literals << 4;
  out.set(src.subarray(anchor, n), op);
  return op + literals;
}

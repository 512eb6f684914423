/**
 * LZ4 block decoding into a buffer the caller owns (docs/cartridge-format.md §9.2: the
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

/**
 * LZNT1 decoding against hand-assembled units, built from the format's rules
 * ([MS-XCA] 2.5) rather than from the decoder: chunk headers (stored size − 3, bit 15
 * compressed), flag bytes, literals, back-references whose offset/length split
 * depends on the position in the chunk, overlapping copies, stored chunks, the zero
 * header that ends a unit. Real compressed units are checked against icat in
 * ntfs-volume.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { decompressLznt1 } from '../src/engine/ntfs/lznt1.js';
import { DiskkitError, ErrorCode } from '../src/engine/errors.js';

/** A chunk header for `data` (compressed or stored), then the data. */
function chunk(data: number[], compressed: boolean): number[] {
  const header = (data.length + 2 - 3) | (compressed ? 0xb000 : 0x3000);
  return [header & 0xff, header >>> 8, ...data];
}

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

describe('LZNT1', () => {
  it('literals and an overlapping back-reference (position 3: 4-bit offset field, 12-bit length)', () => {
    // flags 0b1000: three literals, then a reference: offset 3 (stored 2), length 9 (stored 6).
    const unit = Uint8Array.from(chunk([0x08, ...ascii('abc'), 0x06, 0x20], true));
    const out = new Uint8Array(8192).fill(0xee);
    const produced = decompressLznt1(unit, 0, unit.length, out, 0, out.length);
    expect(produced).toBe(4096);
    expect(Buffer.from(out.subarray(0, 12)).toString('latin1')).toBe('abcabcabcabc');
    // The rest of the chunk reads as zeros; past the last chunk nothing is written.
    expect(out.subarray(12, 4096).every((b) => b === 0)).toBe(true);
    expect(out[4096]).toBe(0xee);
  });

  it('the offset field widens past position 16 (11-bit length at positions 17..32)', () => {
    // 17 literals 'a'..'q' (flags 0 for the first 8 and the next 8, then literal + reference).
    const letters = ascii('abcdefghijklmnopq');
    // At position 17 the split is 5 offset bits / 11 length bits: offset 17 (stored 16), length 5 (stored 2).
    const token = (16 << 11) | 2;
    const data = [0x00, ...letters.slice(0, 8), 0x00, ...letters.slice(8, 16), 0x02, letters[16]!, token & 0xff, token >>> 8];
    const unit = Uint8Array.from(chunk(data, true));
    const out = new Uint8Array(4096);
    decompressLznt1(unit, 0, unit.length, out, 0, out.length);
    expect(Buffer.from(out.subarray(0, 22)).toString('latin1')).toBe('abcdefghijklmnopqabcde');
  });

  it('a stored chunk is copied as it is, and a zero header ends the unit', () => {
    const raw = Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff);
    const unit = Uint8Array.from([...chunk(raw, false), ...chunk([0x00, ...ascii('xyzxyzxy')], true), 0, 0, ...chunk([0x00, ...ascii('NOTREAD!')], true)]);
    const out = new Uint8Array(16384).fill(0xee);
    const produced = decompressLznt1(unit, 0, unit.length, out, 0, out.length);
    expect(produced).toBe(8192);
    expect(Buffer.from(out.subarray(0, 4096))).toEqual(Buffer.from(raw));
    expect(Buffer.from(out.subarray(4096, 4104)).toString('latin1')).toBe('xyzxyzxy');
    expect(out[8192]).toBe(0xee);
  });

  it('long references: a short pattern repeated far past itself, one byte run, and a long copy of older bytes', () => {
    // Position 3 (4-bit offset, 12-bit length): offset 3, length 40 -> "abc" continues periodically.
    const repeat = Uint8Array.from(chunk([0x08, ...ascii('abc'), 37 & 0xff, (2 << 4) | (37 >>> 8)], true));
    const out = new Uint8Array(4096).fill(0xee);
    decompressLznt1(repeat, 0, repeat.length, out, 0, out.length);
    expect(Buffer.from(out.subarray(0, 43)).toString('latin1')).toBe('abc'.repeat(15).slice(0, 43));
    expect(out.subarray(43, 4096).every((b) => b === 0)).toBe(true);

    // Position 1: offset 1, length 100 -> 101 times 'z'.
    const run = Uint8Array.from(chunk([0x02, ...ascii('z'), 97, 0x00], true));
    decompressLznt1(run, 0, run.length, out, 0, out.length);
    expect(Buffer.from(out.subarray(0, 102)).toString('latin1')).toBe('z'.repeat(101) + '\0');

    // 40 literals, then at position 40 (6-bit offset, 10-bit length) offset 40, length 40: the same 40 bytes again.
    const letters = ascii('The quick brown fox jumps over a lazy do');
    const token = (39 << 10) | 37;
    const data = [0x00, ...letters.slice(0, 8), 0x00, ...letters.slice(8, 16), 0x00, ...letters.slice(16, 24), 0x00, ...letters.slice(24, 32), 0x00, ...letters.slice(32, 40), 0x01, token & 0xff, token >>> 8];
    const copy = Uint8Array.from(chunk(data, true));
    decompressLznt1(copy, 0, copy.length, out, 0, out.length);
    expect(Buffer.from(out.subarray(0, 80)).toString('latin1')).toBe('The quick brown fox jumps over a lazy do'.repeat(2));
  });

  it('a reference before the chunk start or a chunk overflowing the unit is E_CORRUPT', () => {
    const before = Uint8Array.from(chunk([0x02, 0x61, 0x00, 0x30], true)); // offset 4 at position 1
    const overflow = Uint8Array.from([0x20, 0xb0, 0x00, 0x61]);
    for (const unit of [before, overflow]) {
      let caught: unknown;
      try {
        decompressLznt1(unit, 0, unit.length, new Uint8Array(4096), 0, 4096);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(DiskkitError);
      expect((caught as DiskkitError).code).toBe(ErrorCode.CORRUPT);
    }
  });
});

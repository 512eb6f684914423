/**
 * The Arrow column builders behind the Parquet writers, against models: FILETIME to
 * Unix microseconds (rounded down) against BigInt arithmetic over the whole 64-bit
 * range, INT64 words against BigInt64Array, UTF-16 to UTF-8 against Buffer's encoder
 * (which also turns lone surrogates into U+FFFD).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { setFiletimeMicros, setInt64, StringColumn } from '../src/engine/parquet/arrow-columns.js';

const EPOCH_TICKS = 116444736000000000n;

describe('Arrow column builders', () => {
  it('setFiletimeMicros gives floor((FILETIME - 1970) / 10) for any two words', () => {
    fc.assert(fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), (lo, hi) => {
      const words = new Int32Array(2);
      setFiletimeMicros(words, 0, lo, hi);
      const ticks = (BigInt(hi) << 32n) | BigInt(lo);
      const d = ticks - EPOCH_TICKS;
      const expected = d >= 0n ? d / 10n : -((-d + 9n) / 10n);
      expect(new BigInt64Array(words.buffer)[0]).toBe(expected);
    }), { numRuns: 2000 });
  });

  it('setInt64 stores every safe non-negative integer exactly', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (v) => {
      const words = new Int32Array(2);
      setInt64(words, 0, v);
      expect(new BigInt64Array(words.buffer)[0]).toBe(BigInt(v));
    }), { numRuns: 2000 });
  });

  it('StringColumn encodes UTF-16 units as Buffer does, lone surrogates as U+FFFD', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 5 }), fc.array(fc.integer({ min: 0xd800, max: 0xdfff }), { maxLength: 3 }), (strings, lone) => {
      const values = [...strings, String.fromCharCode(...lone) + 'x'];
      const column = new StringColumn(1, 1);
      for (const v of values) {
        const all = new Uint16Array(v.length);
        for (let i = 0; i < v.length; i++) all[i] = v.charCodeAt(i);
        column.units(all, 0, all.length);
        column.end();
      }
      const data = column.data();
      for (const [i, v] of values.entries()) {
        const bytes = Buffer.from(data.values.subarray(data.valueOffsets[i]!, data.valueOffsets[i + 1]!));
        expect(bytes.equals(Buffer.from(v, 'utf8'))).toBe(true);
      }
    }), { numRuns: 500 });
  });

  it('StringColumn.raw appends byte ranges, from other arrays or from its own earlier bytes, short or long', () => {
    // Model: each value is the concatenation of the pieces, as Buffer.concat makes it.
    const piece = fc.record({ bytes: fc.uint8Array({ maxLength: 200 }), own: fc.boolean(), from: fc.nat(), length: fc.nat({ max: 150 }) });
    fc.assert(fc.property(fc.array(fc.array(piece, { maxLength: 4 }), { minLength: 1, maxLength: 6 }), (values) => {
      const column = new StringColumn(1, 1);
      const expected: Buffer[] = [];
      for (const pieces of values) {
        const parts: Buffer[] = [];
        for (const p of pieces) {
          if (p.own && column.at > 0) {
            // an earlier range of the column's own bytes (as a directory's path is reused for its files)
            const start = p.from % column.at;
            const end = Math.min(column.at, start + p.length);
            parts.push(Buffer.from(column.bytes.subarray(start, end)));
            column.raw(column.bytes, start, end);
          } else {
            parts.push(Buffer.from(p.bytes));
            column.raw(p.bytes);
          }
        }
        column.end();
        expected.push(Buffer.concat(parts));
      }
      const data = column.data();
      for (const [i, v] of expected.entries()) expect(Buffer.from(data.values.subarray(data.valueOffsets[i]!, data.valueOffsets[i + 1]!)).equals(v)).toBe(true);
    }), { numRuns: 500 });
  });
});

/**
 * $UpCase decoding against the definition: entry i is the little-endian 16-bit value at
 * bytes 2i..2i+1 of the stored table, and the identity past the table's end (a short
 * or missing table), whatever the host's byte order.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { UPCASE_BYTES, UPCASE_ENTRIES, decodeUpcase, upcaseName } from '../src/engine/ntfs/upcase.js';

function model(bytes: Uint8Array | null, i: number): number {
  if (bytes !== null && 2 * i + 1 < bytes.length) return bytes[2 * i]! + 256 * bytes[2 * i + 1]!;
  return i;
}

describe('decodeUpcase', () => {
  it('matches the definition for tables of any length (odd, short, whole, longer)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: UPCASE_BYTES - 3, max: UPCASE_BYTES + 3 })), fc.integer(), (length, seed) => {
        const bytes = new Uint8Array(length);
        let x = seed >>> 0;
        for (let i = 0; i < length; i++) bytes[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
        const table = decodeUpcase(bytes);
        expect(table.length).toBe(UPCASE_ENTRIES);
        for (const i of [0, 1, 2, length >> 1, (length >> 1) - 1, (length >> 1) + 1, 150, 0x41, 0xffff]) {
          if (i >= 0 && i < UPCASE_ENTRIES) expect(table[i], `entry ${i} of a ${length}-byte table`).toBe(model(bytes, i));
        }
        // A sample across the whole table.
        for (let i = 0; i < UPCASE_ENTRIES; i += 997) expect(table[i]).toBe(model(bytes, i));
      }),
      { numRuns: 40 },
    );
  });

  it('no table is the identity; a name maps through the table unit by unit', () => {
    const identity = decodeUpcase(null);
    for (let i = 0; i < UPCASE_ENTRIES; i += 251) expect(identity[i]).toBe(i);
    const bytes = new Uint8Array(UPCASE_BYTES);
    for (let i = 0; i < UPCASE_ENTRIES; i++) {
      const up = i >= 0x61 && i <= 0x7a ? i - 32 : i;
      bytes[2 * i] = up & 0xff;
      bytes[2 * i + 1] = up >> 8;
    }
    expect(upcaseName(decodeUpcase(bytes), 'abc-XyZ-é')).toBe('ABC-XYZ-é');
  });
});

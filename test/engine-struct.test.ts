import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkBound, readU16LE, readU32LE, writeU16LE, writeU32LE } from '../src/engine/binary.js';
import { DiskkitError } from '../src/engine/errors.js';
import { defineStruct } from '../src/engine/struct.js';

describe('little-endian readers', () => {
  it('round-trip every u16 and u32 value through write and read', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.nat(8), (a, b, at) => {
        const buf = new Uint8Array(16);
        writeU16LE(buf, at, a);
        expect(readU16LE(buf, at)).toBe(a);
        writeU32LE(buf, at, b);
        expect(readU32LE(buf, at)).toBe(b);
      }),
    );
  });

  it('honour the byteOffset of a subarray and refuse to read past its end', () => {
    const whole = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const view = whole.subarray(2, 4);
    expect(readU16LE(view, 0)).toBe(0x0403);
    expect(() => readU16LE(view, 1)).toThrow(DiskkitError);
  });

  it('checkBound rejects negative, non-finite and too-large values with E_LIMIT', () => {
    expect(checkBound(5, 5, 'x')).toBe(5);
    for (const v of [-1, 6, Number.NaN, Infinity]) {
      try {
        checkBound(v, 5, 'x');
        expect.unreachable();
      } catch (e) {
        expect((e as DiskkitError).code).toBe('E_LIMIT');
      }
    }
  });
});

describe('defineStruct', () => {
  it('rejects overlapping or overflowing field declarations at definition time', () => {
    expect(() => defineStruct('t', 4, { a: { offset: 0, type: 'u32' }, b: { offset: 2, type: 'u8' } })).toThrow(/overlaps/);
    expect(() => defineStruct('t', 4, { a: { offset: 2, type: 'u32' } })).toThrow(/past/);
  });

  it('decodes what it encodes', () => {
    const S = defineStruct('t', 12, { a: { offset: 0, type: 'u8' }, b: { offset: 2, type: 'u16' }, c: { offset: 4, type: 'u32' }, d: { offset: 8, type: { bytes: 4 } } });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ minLength: 4, maxLength: 4 }), (a, b, c, d) => {
        const buf = new Uint8Array(20);
        S.encode({ a, b, c, d }, buf, 3);
        const out = S.decode(buf, 3);
        expect([out.a, out.b, out.c, Array.from(out.d)]).toEqual([a, b, c, Array.from(d)]);
      }),
    );
  });
});

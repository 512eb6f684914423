import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { Lz4FormatError, decodeLz4Block, encodeLz4Block } from '../../src/engine/cartridge/lz4-block.js';
import { seededRandom } from '../../src/engine/seeded-random.js';
import { hostileLz4Blocks, lz4Samples as samples } from './lz4-samples.js';

// The independent expectation: blocks made by lz4-napi's encoder decode to its input.
const lz4 = createRequire(import.meta.url)('lz4-napi') as typeof import('lz4-napi');

function decode(block: Uint8Array, expected: number, outLength = expected): Uint8Array {
  const out = new Uint8Array(outLength);
  const n = decodeLz4Block(block, 4, block.length, out, expected);
  return out.subarray(0, n);
}

describe('LZ4 block decoder', () => {
  it('decodes what lz4-napi encodes, byte for byte, into a larger reused buffer', () => {
    const out = new Uint8Array(1 << 20);
    for (const input of samples()) {
      const block = new Uint8Array(lz4.compressSync(Buffer.from(input)));
      expect(new DataView(block.buffer, block.byteOffset).getUint32(0, true)).toBe(input.length);
      out.fill(0xee);
      const n = decodeLz4Block(block, 4, block.length, out, input.length);
      expect(n).toBe(input.length);
      expect(Buffer.compare(out.subarray(0, n), input)).toBe(0);
    }
  });

  it('rejects malformed blocks with Lz4FormatError and never writes past the expected length', () => {
    const input = samples()[5]!.subarray(0, 50_000);
    const block = new Uint8Array(lz4.compressSync(Buffer.from(input)));
    const cases = hostileLz4Blocks(block, input.length);
    for (const [label, bad, expected] of cases) {
      const out = new Uint8Array(expected + 64).fill(0xee);
      expect(() => decodeLz4Block(bad, 4, bad.length, out, expected), label).toThrow(Lz4FormatError);
      expect(out.subarray(expected).every((b) => b === 0xee), label).toBe(true);
    }
    expect(() => decode(block, input.length, input.length - 1)).toThrow(Lz4FormatError);
  });

  it('survives random damage: an error or the right length, never a hang or another exception', () => {
    const input = samples()[7]!;
    const block = new Uint8Array(lz4.compressSync(Buffer.from(input)));
    const random = seededRandom(5);
    const out = new Uint8Array(input.length + 16);
    for (let i = 0; i < 300; i++) {
      const bad = block.slice();
      for (let k = 0; k < 4; k++) bad[4 + Math.floor(random() * (bad.length - 4))] ^= 1 << Math.floor(random() * 8);
      out.fill(0xee);
      try {
        expect(decodeLz4Block(bad, 4, bad.length, out, input.length)).toBe(input.length);
      } catch (error) {
        expect(error).toBeInstanceOf(Lz4FormatError);
      }
      expect(out.subarray(input.length).every((b) => b === 0xee)).toBe(true);
    }
  });
});

describe('LZ4 block encoder', () => {
  it('writes blocks that lz4-napi decodes to the input, within the limit it is given', () => {
    for (const input of samples()) {
      const out = new Uint8Array(input.length + 64).fill(0xee);
      const limit = input.length + 32;
      const end = encodeLz4Block(input, out, 4, limit);
      if (end < 0) continue;
      expect(end).toBeLessThanOrEqual(limit);
      expect(out.subarray(limit).every((b) => b === 0xee)).toBe(true);
      new DataView(out.buffer).setUint32(0, input.length, true);
      const decoded = lz4.uncompressSync(Buffer.from(out.subarray(0, end)));
      expect(Buffer.compare(decoded, input)).toBe(0);
    }
  });

  it('compresses text about as well as lz4-napi and gives up on noise as soon as it passes the limit', () => {
    const [, , , , , text, noise] = samples();
    const out = new Uint8Array(1 << 20);
    const end = encodeLz4Block(text!, out, 4, text!.length);
    expect(end).toBeGreaterThan(0);
    expect(end).toBeLessThan(lz4.compressSync(Buffer.from(text!)).length * 1.15);
    out.fill(0xee);
    expect(encodeLz4Block(noise!, out, 4, 90_000)).toBe(-1);
    expect(out.subarray(90_000).every((b) => b === 0xee)).toBe(true);
  });
});

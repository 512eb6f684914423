import { afterEach, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { decodeLz4Block } from '../../src/engine/cartridge/lz4-block.js';
import { Lz4FormatError, decodeLz4, encodeLz4, forceLz4Backend, lz4Backend } from '../../src/engine/cartridge/lz4-native.js';
import { Compression } from '../../src/engine/cartridge/superblock.js';
import { compressExtentSync, decompressExtentInto } from '../../src/engine/cartridge/extent-codec.js';
import { seededRandom } from '../../src/engine/seeded-random.js';
import { hostileLz4Blocks, lz4Samples } from './lz4-samples.js';

// Independent expectations: lz4-napi (a separate implementation, lz4_flex) and the JS decoder of lz4-block.ts.
const napi = createRequire(import.meta.url)('lz4-napi') as typeof import('lz4-napi');

afterEach(() => forceLz4Backend(null));

describe('LZ4 through the C reference library', () => {
  it('is the codec in use when the lz4 package built (an optional dependency; npm ci builds it)', () => {
    expect(lz4Backend()).toBe('c');
  });

  it('encodes blocks that lz4-napi and the JS decoder both decode to the input, within the limit, from any offset', () => {
    for (const input of lz4Samples()) {
      const out = new Uint8Array(input.length + 64).fill(0xee);
      const limit = input.length + 32;
      const end = encodeLz4(input, out, 4, limit);
      if (end < 0) continue;
      expect(end).toBeLessThanOrEqual(limit);
      expect(out.subarray(limit).every((b) => b === 0xee)).toBe(true);
      new DataView(out.buffer).setUint32(0, input.length, true);
      expect(Buffer.compare(napi.uncompressSync(Buffer.from(out.subarray(0, end))), input)).toBe(0);
      const js = new Uint8Array(input.length);
      expect(decodeLz4Block(out, 4, end, js, input.length)).toBe(input.length);
      expect(Buffer.compare(js, input)).toBe(0);
    }
  });

  it('gives up (-1) on noise that does not fit the limit, writing nothing past it', () => {
    const noise = lz4Samples()[6]!;
    const out = new Uint8Array(noise.length + 100).fill(0xee);
    expect(encodeLz4(noise, out, 4, 90_000)).toBe(-1);
    expect(out.subarray(90_000).every((b) => b === 0xee)).toBe(true);
    expect(encodeLz4(noise, out, 10, 10)).toBe(-1);
    expect(encodeLz4(noise, out, 10, 5)).toBe(-1);
  });

  it('decodes what lz4-napi encodes into a view of a larger shared buffer, touching nothing around it', () => {
    const backing = new Uint8Array(new SharedArrayBuffer((1 << 20) + 64));
    const out = backing.subarray(32, 32 + (1 << 20));
    for (const input of lz4Samples()) {
      const block = new Uint8Array(napi.compressSync(Buffer.from(input)));
      backing.fill(0xee);
      expect(decodeLz4(block, 4, block.length, out, input.length)).toBe(input.length);
      expect(Buffer.compare(out.subarray(0, input.length), input)).toBe(0);
      expect(backing.subarray(0, 32).every((b) => b === 0xee)).toBe(true);
      expect(backing.subarray(32 + input.length).every((b) => b === 0xee)).toBe(true);
    }
  });

  it('rejects hostile blocks with Lz4FormatError and never writes past the expected length', () => {
    const input = lz4Samples()[5]!.subarray(0, 50_000);
    const block = new Uint8Array(napi.compressSync(Buffer.from(input)));
    const cases = hostileLz4Blocks(block, input.length);
    for (const [label, bad, expected] of cases) {
      const out = new Uint8Array(expected + 64).fill(0xee);
      expect(() => decodeLz4(bad, 4, bad.length, out, expected), label).toThrow(Lz4FormatError);
      expect(out.subarray(expected).every((b) => b === 0xee), label).toBe(true);
    }
    const small = new Uint8Array(input.length - 1);
    expect(() => decodeLz4(block, 4, block.length, small, input.length)).toThrow(Lz4FormatError);
    expect(() => decodeLz4(block, 4, block.length + 1, new Uint8Array(input.length), input.length)).toThrow(Lz4FormatError);
  });

  it('survives random damage: an error or the right length, never a crash or a write past the output', () => {
    const input = lz4Samples()[7]!;
    const block = new Uint8Array(napi.compressSync(Buffer.from(input)));
    const random = seededRandom(6);
    const out = new Uint8Array(input.length + 16);
    let refused = 0;
    for (let i = 0; i < 1000; i++) {
      const bad = block.slice();
      for (let k = 0; k < 4; k++) bad[4 + Math.floor(random() * (bad.length - 4))] ^= 1 << Math.floor(random() * 8);
      out.fill(0xee);
      try {
        expect(decodeLz4(bad, 4, bad.length, out, input.length)).toBe(input.length);
      } catch (error) {
        expect(error).toBeInstanceOf(Lz4FormatError);
        refused++;
      }
      expect(out.subarray(input.length).every((b) => b === 0xee)).toBe(true);
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('an extent written by either codec reads back through the other (the format does not depend on the codec)', () => {
    const input = lz4Samples()[5]!;
    const record = (bytes: Uint8Array) => ({ address: 1, generation: 1, pageCount: Math.ceil(bytes.length / 4096), storedLength: bytes.length, logicalLength: input.length, compression: Compression.LZ4, seal: new Uint8Array(4) });
    for (const [writer, reader] of [['c', 'js'], ['js', 'c']] as const) {
      forceLz4Backend(writer === 'js' ? 'js' : null);
      const extent = compressExtentSync(input, Compression.LZ4, 4096, 0, new Uint8Array(input.length));
      expect(extent.compression).toBe(Compression.LZ4);
      const stored = extent.bytes.slice();
      forceLz4Backend(reader === 'js' ? 'js' : null);
      expect(lz4Backend()).toBe(reader);
      const out = decompressExtentInto(stored, record(stored), new Uint8Array(input.length));
      expect(Buffer.compare(out, input)).toBe(0);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { compress as asyncCompress, decompress as asyncDecompress } from '@mongodb-js/zstd';
import { zstdCompressSync, zstdDecompressSync, zstdSyncImplementation } from '../../src/engine/cartridge/zstd-sync.js';
import { zstdOutputBound } from '../../src/engine/cartridge/extent-codec.js';
import { patternBytes } from './scratch.js';

function textLike(length: number): Uint8Array {
  const words = ['page', 'extent', 'catalog', 'the', 'of', 'snapshot', '\n'];
  let s = '';
  for (let i = 0; s.length < length; i++) s += words[(i * 7 + (i >> 3)) % words.length] + ' ';
  return new TextEncoder().encode(s.slice(0, length));
}

describe('synchronous zstd', () => {
  it('uses the native synchronous binding here (no worker round trip per extent)', () => {
    expect(zstdSyncImplementation()).toBe('native');
  });

  it.each([100, 4096, 65536, 1024 * 1024])('frames of %i bytes round-trip both ways with the async library that wrote existing images', async (length) => {
    const data = length === 65536 ? patternBytes(length, 5) : textLike(length);
    const frame = zstdCompressSync(data, 3);
    expect(Buffer.compare(await asyncDecompress(Buffer.from(frame)), data)).toBe(0);
    expect(zstdOutputBound(frame)).toBeGreaterThanOrEqual(length);
    const older = await asyncCompress(Buffer.from(data), 3);
    expect(Buffer.compare(zstdDecompressSync(older), data)).toBe(0);
  });

  it('refuses bytes that are not a zstd frame with an error', () => {
    expect(() => zstdDecompressSync(patternBytes(300, 9))).toThrow();
    const frame = zstdCompressSync(textLike(5000), 3);
    expect(() => zstdDecompressSync(frame.subarray(0, frame.length - 7))).toThrow();
  });
});
